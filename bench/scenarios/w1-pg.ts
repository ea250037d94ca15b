// W1pg and W1spg: W1 and W1s on PostgreSQL, each run in a fresh schema dropped after, with the
// server's CPU per flow next to the engine's.
import type { BenchOptions, Measure, Scenario } from '../common.js';
import { admin, dropSchema, pgStore, schemaName, serverCpuSince, watchOthers } from '../pg.js';
import { runDiamond } from './w1-diamond.js';

async function runDiamondPg(tag: string, flows: number, window: number): Promise<Measure> {
  const db = await admin();
  const schema = schemaName(tag);
  try {
    const { store, writes } = pgStore(schema);
    // other clients of the server while it runs would have their CPU counted as ours
    const others = await watchOthers();
    const m = await runDiamond({ flows, window, store, serverCpu: serverCpuSince, writes });
    Object.assign(m.figures, await others.stop());
    return m;
  } finally {
    await dropSchema(db, schema);
    await db.end();
  }
}

export const w1pg: Scenario = {
  id: 'W1pg',
  title: 'diamond, PostgreSQL, 10,000 flows, 200 in flight',
  repeats: 3,
  run: ({ quick }: BenchOptions) => runDiamondPg('w1pg', quick ? 1000 : 10_000, 200),
};

export const w1spg: Scenario = {
  id: 'W1spg',
  title: 'diamond, PostgreSQL, one flow at a time, 1,000 flows',
  repeats: 3,
  run: async ({ quick }: BenchOptions) => ({ ...(await runDiamondPg('w1spg', quick ? 100 : 1000, 1)), primary: 'p50_ms' }),
};
