// Where W1pg's time goes: runs W1's diamond on PostgreSQL (a fresh schema, dropped after) with every
// statement the store sends counted and timed by its kind, at 200 flows in flight and at one at a
// time. Prints per flow: statements of each kind, their mean time as the client sees it (the
// server's work plus a round trip), and the server's and the engine's CPU.
// Run: npm run bench:build && node dist-bench/tools/pg-queries.js [flows]
import pg from 'pg';
import { Engine } from 'vastflow';
import { cpuMs, diamond, diamondClasses, round, silent, windowed } from '../common.js';
import { admin, allEnded, dropSchema, pgStore, schemaName, serverCpuSince, sleep } from '../pg.js';
import { runDiamond } from '../scenarios/w1-diamond.js';

/** A statement's kind: its first words, with the schema left out. */
function kindOf(text: string): string {
  const t = text
    .replace(/"bench_[a-z0-9_]+"\./g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (/^WITH made AS \(INSERT INTO flows/.test(t)) return 'create (INSERT flows + changes)';
  if (/^WITH changed AS \( UPDATE flows/.test(t)) return 'header (UPDATE flows + changes)';
  if (/^SELECT id, owner, epoch FROM flows/.test(t)) return 'fence (SELECT … FOR NO KEY UPDATE)';
  if (/^INSERT INTO streams/.test(t)) return 'streams (INSERT … ON CONFLICT)';
  if (/^INSERT INTO headwaters/.test(t)) return 'headwaters (INSERT … ON CONFLICT)';
  if (/^UPDATE flows f SET owner = \$1/.test(t))
    return t.includes("status = 'waiting'") ? 'claim waiting (UPDATE … SKIP LOCKED)' : 'claim due (UPDATE … SKIP LOCKED)';
  if (/^SELECT c\.seq, c\.flow_id/.test(t)) return 'listCommands';
  if (/^SELECT id FROM flows WHERE request_id/.test(t)) return 'findFlowId';
  if (/^WITH w AS \( INSERT INTO workers/.test(t)) return 'heartbeat';
  if (/^SELECT f\.header, f\.blueprint/.test(t)) return 'getFlow';
  if (/^SELECT pg_notify/.test(t)) return 'notify';
  return t.split(' ').slice(0, 3).join(' ');
}

const stats = new Map<string, { n: number; ms: number }>();
function count(text: string, t0: number): void {
  const s = stats.get(kindOf(text)) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += performance.now() - t0;
  stats.set(kindOf(text), s);
}
// every statement goes through Client#query: the pool's (with a callback) and a transaction's
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]): unknown {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
  const t0 = performance.now();
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const cb = args[last] as (...r: unknown[]) => unknown;
    args[last] = (...r: unknown[]) => (count(text, t0), cb(...r));
    return query.apply(this, args);
  }
  const out = query.apply(this, args);
  if (out instanceof Promise)
    void out.then(
      () => count(text, t0),
      () => undefined,
    );
  return out;
} as typeof pg.Client.prototype.query;

function print(flows: number): void {
  console.log('| statement | per flow | mean ms |\n| --- | --- | --- |');
  const rows = [...stats].sort((a, b) => b[1].n - a[1].n);
  for (const [kind, s] of rows) if (s.n / flows >= 0.01) console.log(`| ${kind} | ${round(s.n / flows, 3)} | ${round(s.ms / s.n, 3)} |`);
  const total = rows.reduce((sum, [, s]) => sum + s.n, 0);
  console.log(`| all | ${round(total / flows, 2)} | |`);
}

/** W6's path with one engine: the flows recorded as waiting first, then claimed from the queue. */
async function profileClaims(flows: number): Promise<void> {
  const db = await admin();
  const schema = schemaName('pgqc');
  try {
    const client = await Engine.open({ store: pgStore(schema).store, logger: silent, classes: diamondClasses, concurrency: 0 });
    await windowed(flows, 500, async (i) => void (await diamond(client, `c-${i}`).start()));
    await client.close();
    stats.clear();
    const { store, writes } = pgStore(schema);
    const serverSince = serverCpuSince();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const engine = await Engine.open({ store, logger: silent, classes: diamondClasses, concurrency: 200, worker: { heartbeat: '200ms', leaseTime: '1s' } });
    while (!(await allEnded(db, schema))) await sleep(20);
    const s = (performance.now() - t0) / 1000;
    const figures = {
      flows_per_s: round(flows / s, 0),
      cpu_ms_per_flow: round(cpuMs(cpu0) / flows, 3),
      server_cpu_ms_per_flow: round(serverSince() / flows, 3),
      flows_per_write: round(flows / writes(), 2),
    };
    await engine.close();
    console.log(`\n${flows} flows waiting in the store, then one engine (200 in flight) claims them: ${JSON.stringify(figures)}`);
    print(flows);
  } finally {
    await dropSchema(db, schema);
    await db.end();
  }
}

async function profile(flows: number, window: number): Promise<void> {
  const db = await admin();
  const schema = schemaName('pgq');
  try {
    const { store, writes } = pgStore(schema);
    stats.clear();
    const m = await runDiamond({ flows, window, store, serverCpu: serverCpuSince, writes });
    console.log(`\n${flows} flows, ${window} in flight: ${JSON.stringify(m.figures)}`);
    print(flows);
  } finally {
    await dropSchema(db, schema);
    await db.end();
  }
}

const flows = Number(process.argv[2] ?? 3000);
await profile(Math.min(300, flows), 200); // warm-up
await profile(flows, 200);
await profile(Math.max(100, Math.floor(flows / 10)), 1);
await profileClaims(flows);
