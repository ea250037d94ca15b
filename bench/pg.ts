// Shared pieces of the PostgreSQL workloads: a fresh schema per run, the server's CPU from /proc,
// a store that counts its write transactions, and SQL reads of a schema's flows.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { PostgresStore, type Store } from 'vastflow';

/** The server the PostgreSQL workloads run on (env VASTFLOW_PG_URL). */
export const PG_URL = process.env['VASTFLOW_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
/** The application_name of the benchmark's connections, to tell other clients of the server apart. */
export const APP_NAME = 'vastflow-bench';

/** The connection string with the benchmark's application_name. */
export function benchUrl(): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', APP_NAME);
  return url.toString();
}

let made = 0;
/** A schema name no other run uses. */
export function schemaName(tag: string): string {
  return `bench_${tag}_${process.pid}_${made++}`.toLowerCase();
}

/** An administrative connection (schema drops, counts); end() it after. */
export async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: benchUrl() });
  await client.connect();
  return client;
}

export async function dropSchema(db: pg.Client, schema: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * Brings the server to the same state before each timed phase: the schema's tables vacuumed and
 * analysed (the autovacuum that a fresh table of 10,000 inserts triggers would otherwise run in the
 * middle of the phase, or not, by chance), and a checkpoint done (one that falls in a phase slows it
 * with its writes and the full-page images of every page touched after it).
 */
export async function settle(db: pg.Client, schema: string): Promise<void> {
  await db.query(`VACUUM (ANALYZE) "${schema}".flows, "${schema}".streams, "${schema}".headwaters, "${schema}".changes`);
  await db.query('CHECKPOINT');
}

/** A store on a fresh schema (created on open), that counts its write transactions. */
export function pgStore(schema: string): { store: Store; writes: () => number } {
  const inner = new PostgresStore({ connectionString: benchUrl(), schema });
  let writes = 0;
  const write: Store['write'] = (changes) => (writes++, inner.write(changes));
  // a proxy rather than a subclass: the store's private fields need the real instance as `this`
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'write') return write;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store;
  return { store, writes: () => writes };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU ms (utime + stime) of one process, from /proc/<pid>/stat; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // the fields after the command name (which is in parentheses and may hold spaces) start at field 3
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[14 - 3]) + Number(rest[15 - 3])) * 1000) / CLK_TCK;
}

/** CPU ms used so far by each process named `postgres`, by pid. */
function serverProcesses(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'postgres') out.set(Number(entry), processCpuMs(Number(entry)));
  }
  return out;
}

/** Backends of other clients of the server, seen by {@link watchOthers}: not counted as ours. */
const foreign = new Set<number>();

/**
 * The server's CPU from now on: the returned function gives the CPU ms that every process named
 * `postgres` (the postmaster, its background processes and the connections' backends) used since
 * this call, process by process (a backend that started meanwhile counts whole). The backends of
 * the benchmark's pools stay open during a measured part, so their whole CPU is in it. Backends of
 * other clients that {@link watchOthers} saw are left out: on a shared server, other projects'
 * tests would otherwise count as ours.
 */
export function serverCpuSince(): () => number {
  const before = serverProcesses();
  return () => {
    let ms = 0;
    for (const [pid, now] of serverProcesses()) if (!foreign.has(pid)) ms += now - (before.get(pid) ?? 0);
    return ms;
  };
}

/** Client backends of the server that are not the benchmark's: their CPU would count as ours. */
export async function otherClients(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name IS DISTINCT FROM $1`,
    [APP_NAME],
  );
  for (const r of rows) foreign.add(r.pid);
  return rows.length;
}

/**
 * Samples, every 250 ms on its own connection, the other clients of the server (other projects'
 * tests sharing it: their backends are left out of the server's CPU) and the machine's load;
 * stop() returns the most seen of each.
 */
export async function watchOthers(): Promise<{ stop: () => Promise<Record<string, number>> }> {
  const db = await admin();
  let clients = await otherClients(db);
  let load = os.loadavg()[0]!;
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(async () => {
      clients = Math.max(clients, await otherClients(db).catch(() => 0));
      load = Math.max(load, os.loadavg()[0]!);
    });
  }, 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await busy;
      await db.end();
      return { other_clients_max: clients, load_1m_max: Number(load.toFixed(1)) };
    },
  };
}

/** Flows of the schema that have ended (a count: it reads every row; poll {@link allEnded} instead where it will do). */
export async function endedFlows(db: pg.Client, schema: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".flows WHERE NOT unfinished`);
  return Number(rows[0]!.n);
}

/**
 * True once no flow of the schema is unfinished: one look into each of the three partial indexes
 * that hold unfinished flows, so that polling it every 20 ms costs the measured server next to nothing.
 */
export async function allEnded(db: pg.Client, schema: string): Promise<boolean> {
  const f = `"${schema}".flows`;
  const { rows } = await db.query<{ done: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM ${f} WHERE owner IS NOT NULL AND unfinished)
        AND NOT EXISTS (SELECT 1 FROM ${f} WHERE unfinished AND status <> 'waiting' AND owner IS NULL)
        AND NOT EXISTS (SELECT 1 FROM ${f} WHERE status = 'waiting') AS done`,
  );
  return rows[0]!.done;
}

/** The worker id of the engine W5pg kills. */
export const W5PG_WORKER = 'w5pg-killed';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How many of `ids` have resumed: ended, or held by an owner other than `dead`. */
export async function resumedOf(db: pg.Client, schema: string, ids: readonly string[], dead: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM "${schema}".flows WHERE id = ANY($1::text[]) AND (NOT unfinished OR (owner IS NOT NULL AND owner <> $2))`,
    [[...ids], dead],
  );
  return Number(rows[0]!.n);
}

/** Unfinished flows of the schema that `owner` holds. */
export async function heldBy(db: pg.Client, schema: string, owner: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM "${schema}".flows WHERE unfinished AND owner = $1`, [owner]);
  return rows.map((r) => r.id);
}
