// How fast could W1 go if writing cost nothing? Runs W1 (10,000 diamond flows, 200 in flight) on
// LevelDB, then on the same LevelStore over a database that drops every batch it is given (the
// engine and the store's serialization, no binding and no I/O), then on a store that drops the
// changes themselves (the engine alone). The median of 3 runs each. Last, the batches one LevelDB
// run wrote are written again, in order and one in flight, into a fresh LevelDB with nothing else
// running: the raw cost of exactly W1's records (through chained batches, as LevelStore writes them;
// then as arrays of ops, the way LevelStore wrote them before). Run: npm run bench:ceiling
import { Level } from 'level';
import { LevelStore, type LevelDatabase, type Store } from 'vastflow';
import { cleanup, countingLevelStore, cpuMs, observedLevelStore, round, tempDir, type BatchOps } from '../common.js';
import { runDiamond } from '../scenarios/w1-diamond.js';

/** A database that accepts and forgets: batches resolve at once, reads find nothing. */
function droppingDatabase(): LevelDatabase {
  let status = 'closed';
  return {
    get status() {
      return status;
    },
    open: async () => void (status = 'open'),
    close: async () => void (status = 'closed'),
    get: async () => undefined,
    getMany: async (keys) => keys.map(() => undefined),
    batch: async () => {},
    iterator: () => ({ all: async () => [] }),
  };
}

/** A store that does not even serialize: every write resolves at once, reads find nothing. */
function nullStore(): Store {
  let status: Store['status'] = 'new';
  return {
    get status() {
      return status;
    },
    supports: { sync: false, persistent: false },
    open: async () => void (status = 'open'),
    close: async () => void (status = 'closed'),
    write: () => Promise.resolve({ fenced: [], duplicates: [] }),
    getFlow: async () => undefined,
    findFlowId: async () => undefined,
    listFlows: async () => [],
    listUnfinished: async () => [],
    listWaiting: async () => [],
    listDue: async () => [],
    claim: async () => [],
    release: async () => {},
    heartbeat: async () => ({ lost: [] }),
    workers: async () => [],
    leave: async () => {},
    addCommand: async () => undefined,
    listCommands: async () => [],
  };
}

/** W1 (10,000 flows, 200 in flight) on `store`: flows/s and CPU µs per flow. */
async function w1On(store: Store, flows = 10_000): Promise<{ flows_per_s: number; cpu_us_per_flow: number }> {
  const { figures } = await runDiamond({ flows, window: 200, store });
  return { flows_per_s: figures['flows_per_s']!, cpu_us_per_flow: round(figures['cpu_ms_per_flow']! * 1000, 0) };
}

/** Writes one batch as LevelStore does: through a chained batch, or (`array`) as an array of ops. */
function writeBatch(db: Level<string, string>, ops: BatchOps, array: boolean): Promise<void> {
  if (array) return db.batch(ops);
  const batch = db.batch();
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value);
    else batch.del(op.key);
  }
  return batch.write();
}

async function replay(batches: BatchOps[], flows: number, array: boolean): Promise<{ flows_per_s: number; cpu_us_per_flow: number }> {
  const db = new Level<string, string>(tempDir('replay'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const ops of batches) await writeBatch(db, ops, array);
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuMs(cpu0);
  await db.close();
  return { flows_per_s: round(flows / s, 0), cpu_us_per_flow: round((cpu * 1000) / flows, 1) };
}

const variants: Array<[string, () => Store]> = [
  ['LevelDB', () => countingLevelStore(tempDir('ceiling')).store],
  ['LevelStore, batches dropped', () => new LevelStore(droppingDatabase(), { where: 'nowhere', persistent: false })],
  ['writes dropped (engine alone)', nullStore],
];
await w1On(variants[0]![1](), 1000); // warm-up
for (const [name, make] of variants) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await w1On(make()));
    cleanup();
  }
  runs.sort((a, b) => a.flows_per_s - b.flows_per_s);
  console.log(JSON.stringify({ store: name, ...runs[1]! }));
}
const batches: BatchOps[] = [];
await w1On(observedLevelStore(tempDir('recorded'), (ops) => batches.push(ops.map((op) => ({ ...op })))));
const records = batches.reduce((n, b) => n + b.length, 0);
// as LevelStore writes them (chained batches: the ceiling), and as arrays of ops (for comparison)
for (const array of [false, true]) {
  const replays = [];
  for (let i = 0; i < 3; i++) replays.push(await replay(batches, 10_000, array));
  replays.sort((a, b) => a.flows_per_s - b.flows_per_s);
  const store = `W1's batches written again${array ? ' as arrays of ops' : ''}, nothing else running`;
  console.log(JSON.stringify({ store, batches: batches.length, records, ...replays[1]! }));
}
cleanup();
