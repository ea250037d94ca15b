// W7: 100,000 flows held at a Dam (LevelDB), then released by 100,000 engine.send calls. Runs in a
// process of its own; memory per held flow as W4 measures it (the growth of RSS while the last
// 90 % of the flows reach their Dam, divided by their number).
import { Andes, Dam, Engine, Headwaters, type Store } from 'vastflow';
import { countingLevelStore, EndClock, round, silent, tempDir, windowed, type Scenario } from '../common.js';
import { admin, dropSchema, pgStore, schemaName } from '../pg.js';

function rssAtRest(): number {
  global.gc?.();
  return process.memoryUsage.rss();
}

async function runHeld(flows: number, store: Store) {
  const first = flows / 10;
  const engine = await Engine.open({ store, logger: silent, classes: [EndClock], concurrency: flows });
  EndClock.ended.clear();
  const ids: string[] = new Array(flows);
  const hold = async (i: number): Promise<void> => {
    const run = await new Andes(engine)
      .drawHeadwaters(new Headwaters(`w7-${i}`))
      .drawStream(new Dam('approval', { timeout: '7d' }))
      .drawAtlantic(new EndClock())
      .start();
    ids[i] = run.id;
  };
  const t0 = performance.now();
  await windowed(first, 200, hold);
  await new Promise((r) => setTimeout(r, 100));
  const rssFirst = rssAtRest();
  await windowed(flows - first, 200, (i) => hold(first + i));
  const startMs = performance.now() - t0 - 100;
  await new Promise((r) => setTimeout(r, 200));
  const rssAll = rssAtRest();
  const t1 = performance.now();
  await windowed(flows, 200, (i) => engine.send(ids[i]!, 'approval', { ok: true }));
  const sendMs = performance.now() - t1;
  while (EndClock.ended.size < flows) await new Promise((r) => setTimeout(r, 5));
  const allMs = performance.now() - t1;
  await engine.close();
  return {
    primary: 'sends_per_s' as const,
    figures: {
      flows,
      start_ms: round(startMs, 0),
      rss_bytes_per_flow: round((rssAll - rssFirst) / (flows - first), 0),
      sends_per_s: round(flows / (sendMs / 1000), 0),
      all_ended_ms: round(allMs, 0),
    },
  };
}

export const w7: Scenario = {
  id: 'W7',
  title: 'held at a Dam, then released by engine.send (LevelDB)',
  repeats: 1,
  ownProcess: true,
  run: ({ quick }) => runHeld(quick ? 10_000 : 100_000, countingLevelStore(tempDir('w7')).store),
};

export const w7pg: Scenario = {
  id: 'W7pg',
  title: 'held at a Dam, then released by engine.send (PostgreSQL, 10,000 flows)',
  repeats: 1,
  ownProcess: true,
  run: async ({ quick }) => {
    const db = await admin();
    const schema = schemaName('w7pg');
    try {
      return await runHeld(quick ? 1_000 : 10_000, pgStore(schema).store);
    } finally {
      await dropSchema(db, schema);
      await db.end();
    }
  },
};
