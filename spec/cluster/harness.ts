// The cluster tests' harness: a fresh PostgreSQL schema and journal per test, engine processes
// (spec/cluster/program.ts) and engines in this process on it, and polling with a deadline.
// After each test every child still alive is killed (continued first, when stopped), every engine
// opened here is closed and the schema is dropped.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Engine, PostgresStore, type EngineOptions } from '../../lib/index.js';
import { childEnv } from '../helpers/child.js';
import { silent } from '../helpers/stores.js';
import type { Args } from './program.js';
import { allClasses, entries, readJournal, settings, type Entry } from './rivers.js';
import { PG_URL, dropSchema, schemaName } from '../helpers/postgres.js';
export { PG_URL };

export const HEARTBEAT_MS = 50;
export const LEASE_MS = 400;
const PROGRAM = fileURLToPath(new URL('./program.ts', import.meta.url));

/** An engine process. */
export interface EngineProcess {
  id: string;
  child: ChildProcess;
  /** Resolves with the exit code, or the signal's name, once the process has exited. */
  exited: Promise<number | string>;
  /** True once it has exited. */
  readonly gone: boolean;
  /** Sends one line to its stdin (`open`, `close`). */
  send(line: string): void;
  stderr(): string;
}

export interface NodeOptions extends Partial<Omit<Args, 'id' | 'url' | 'schema'>> {
  /** Rivers that hold in this process (see rivers.ts): names, comma-separated. */
  hold?: string;
  /** A file whose existence ends the holds (else they last until the flow is stopped). */
  gate?: string;
  /** A river whose first flow() stops the process right after it returns (see rivers.ts). */
  stopAfter?: string;
}

export interface Cluster {
  readonly schema: string;
  readonly journalFile: string;
  /** A file path in this test's temp dir. */
  file(name: string): string;
  /** Starts an engine process on this test's schema. */
  node(id: string, options?: NodeOptions): EngineProcess;
  /** Opens an engine in this process on this test's schema, with every class and the small timings unless told otherwise. */
  open(id: string, options?: EngineOptions): Promise<Engine>;
  lines(): string[];
  entries(): Entry[];
  /** Appends a note (`# <text>`) to the journal: a mark the river lines can be ordered against. */
  note(text: string): number;
  /**
   * The leases that ran out while this test ran, as seen by a monitor that reads the workers table
   * every few ms: an engine the test did not kill or stop whose lease lapsed (its heartbeat came
   * late: a machine too loaded to run it in time) may lose its flows to another, and run a river
   * again, as the contract allows. Assertion messages name them.
   */
  lapses(): string;
  /** Awaits `promise`, failing after `timeoutMs` with the journal and the processes' stderr. */
  within<T>(what: string, promise: Promise<T>, timeoutMs?: number): Promise<T>;
  /** Polls `check` every few ms until it returns something other than undefined/false; fails at the deadline with the journal. */
  until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
}

export function useCluster(): Cluster {
  let schema = '';
  let tmp = '';
  let journalFile = '';
  const nodes: EngineProcess[] = [];
  const engines: Engine[] = [];

  let monitor: { stop(): Promise<void>; lapses: string[] } | undefined;

  beforeEach(() => {
    schema = schemaName('cluster');
    monitor = watchLeases(schema);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cluster-'));
    journalFile = path.join(tmp, 'journal.log');
    settings.journal = journalFile;
    settings.engine = 'parent';
    settings.hold = '';
    settings.gate = '';
  });

  afterEach(async function () {
    this.timeout(20_000);
    for (const n of nodes.splice(0)) {
      if (n.gone) continue;
      n.child.kill('SIGCONT');
      n.child.kill('SIGKILL');
      await n.exited;
    }
    for (const e of engines.splice(0)) await e.close();
    await monitor?.stop();
    await dropSchema(schema);
    settings.journal = '';
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const timedOut = (what: string, ms: number): Error => {
    const stderr = nodes.map((n) => (n.stderr() === '' ? '' : `\n--- ${n.id} stderr:\n${n.stderr().slice(-4000)}`)).join('');
    return new Error(
      `timed out after ${ms} ms waiting for ${what} (${cluster.lapses()}); journal:\n${readJournal(journalFile).slice(-40).join('\n')}${stderr}`,
    );
  };

  const cluster: Cluster = {
    get schema() {
      return schema;
    },
    get journalFile() {
      return journalFile;
    },
    file: (name) => path.join(tmp, name),
    node(id, options = {}) {
      const { hold, gate, stopAfter, ...rest } = options;
      const args: Args = { url: PG_URL, schema, id, heartbeat: `${HEARTBEAT_MS}ms`, leaseTime: `${LEASE_MS}ms`, concurrency: 10, ...rest };
      const env: Record<string, string> = {
        VASTFLOW_CLUSTER_JOURNAL: journalFile,
        VASTFLOW_CLUSTER_HOLD: hold ?? '',
        VASTFLOW_CLUSTER_GATE: gate ?? '',
        VASTFLOW_CLUSTER_STOP_AFTER: stopAfter ?? '',
      };
      const child = spawn(process.execPath, ['--import', 'tsx', PROGRAM, JSON.stringify(args)], { env: childEnv(env), stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      let gone = false;
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin!.on('error', () => undefined); // a killed child's pipe
      const exited = new Promise<number | string>((resolve) => {
        child.on('exit', (code, signal) => {
          gone = true;
          if (code !== 0 && code !== null) process.stderr.write(`engine process ${id} exited ${code}:\n${stderr}\n`);
          resolve(code ?? signal ?? 'unknown');
        });
      });
      const node: EngineProcess = {
        id,
        child,
        exited,
        get gone() {
          return gone;
        },
        send: (line) => void child.stdin!.write(`${line}\n`),
        stderr: () => stderr,
      };
      nodes.push(node);
      return node;
    },
    async open(id, options = {}) {
      const engine = await Engine.open({
        store: new PostgresStore({ connectionString: PG_URL, schema }),
        classes: allClasses,
        logger: silent,
        ...options,
        worker: { id, heartbeat: `${HEARTBEAT_MS}ms`, leaseTime: `${LEASE_MS}ms`, ...options.worker },
      });
      engines.push(engine);
      return engine;
    },
    lapses: () => (monitor === undefined || monitor.lapses.length === 0 ? 'no lease lapsed' : `leases that lapsed: ${monitor.lapses.join('; ')}`),
    lines: () => readJournal(journalFile),
    entries: () => entries(readJournal(journalFile)),
    note(text) {
      fs.appendFileSync(journalFile, `# ${text} ${Date.now()}\n`);
      return readJournal(journalFile).length - 1;
    },
    async within(what, promise, timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut(what, timeoutMs)), timeoutMs);
      });
      try {
        return await Promise.race([promise, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async until(what, check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await check();
        if (got !== undefined && got !== false) return got;
        if (Date.now() > deadline) throw timedOut(what, timeoutMs);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  return cluster;
}

/** Entries of one phase (and river), optionally of one engine. */
export const only = (list: Entry[], river: string, phase: string, engine?: string): Entry[] =>
  list.filter((e) => e.river === river && e.phase === phase && (engine === undefined || e.engine === engine));

/** How many times each requestId appears in the entries. */
export function countBy(list: Entry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of list) out.set(e.requestId, (out.get(e.requestId) ?? 0) + 1);
  return out;
}

/** Waits until the journal notes that the engine process opened (or, with `started`, started its flows). */
export function opened(cluster: Cluster, node: EngineProcess, started = false): Promise<true> {
  const mark = started ? `# started ${node.id} ` : `# opened ${node.id} `;
  return cluster.until(
    `${node.id} to ${started ? 'start its flows' : 'open'}`,
    () => {
      if (node.gone) throw new Error(`engine process ${node.id} exited before it ${started ? 'started its flows' : 'opened'}:\n${node.stderr()}`);
      return cluster.lines().some((l) => l.startsWith(mark));
    },
    25_000,
  );
}

/** Reads the schema's workers table every 20 ms and notes each lease seen run out. */
function watchLeases(schema: string): { stop(): Promise<void>; lapses: string[] } {
  const lapses: string[] = [];
  const seen = new Set<string>();
  const client = new pg.Client({ connectionString: PG_URL });
  let stopped = false;
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  const loop = (async () => {
    if (!(await connected)) return;
    while (!stopped) {
      try {
        const { rows } = await client.query<{ id: string; heartbeat_at: string; expires_at: string }>(
          `SELECT id, heartbeat_at::text, expires_at::text FROM "${schema}".workers`,
        );
        const now = Date.now();
        for (const r of rows) {
          const key = `${r.id}@${r.heartbeat_at}`;
          if (Number(r.expires_at) < now && !seen.has(key)) {
            seen.add(key);
            lapses.push(`${r.id}'s at ${r.expires_at} (heartbeat ${r.heartbeat_at}, seen at ${now})`);
          }
        }
      } catch {
        // no table yet: no engine has opened the schema
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    lapses,
    async stop() {
      stopped = true;
      await loop;
      await client.end().catch(() => undefined);
    },
  };
}
