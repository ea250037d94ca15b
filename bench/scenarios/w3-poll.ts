// W3: poll: one river per flow with cycleTimes 6, cycleInterval 10ms, true on the 5th poll.
// W3pg runs it on PostgreSQL, in a fresh schema, with the server's CPU.
import { Andes, Engine, Headwaters, River, type RiverAttr, type RiverContext, type Store } from 'vastflow';
import { countingLevelStore, cpuMs, round, silent, tempDir, windowed, type Measure, type Scenario } from '../common.js';
import { admin, dropSchema, pgStore, schemaName, serverCpuSince, watchOthers } from '../pg.js';

class PollRiver extends River {
  static riverName = 'BenchPoll';
  update(attr: RiverAttr) {
    attr.cycleTimes = 6;
    attr.cycleInterval = 10;
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    return ctx.cycle >= 5;
  }
}

async function runPoll(flows: number, store: Store, serverCpu?: () => () => number): Promise<Measure> {
  const engine = await Engine.open({ store, logger: silent, classes: [PollRiver], concurrency: 200 });
  const ids: string[] = [];
  const serverSince = serverCpu?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await windowed(flows, 200, async (i) => {
    const run = await new Andes(engine)
      .drawHeadwaters(new Headwaters(`w3-${i}`))
      .drawStream(new PollRiver())
      .start();
    if (i % 997 === 0) ids.push(run.id);
    await run.result();
  });
  const wallMs = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  const server = serverSince?.();
  // every poll's count is in the store
  for (const id of ids) {
    const snap = await engine.get(id);
    if (snap?.streams[0]?.cycles !== 5) throw new Error(`W3: flow ${id} recorded ${snap?.streams[0]?.cycles} polls, not 5`);
  }
  await engine.close();
  const idealMs = Math.ceil(flows / 200) * 50;
  const figures: Record<string, number> = {
    flows,
    wall_ms: round(wallMs, 0),
    ideal_ms: idealMs,
    wall_over_ideal: round(wallMs / idealMs, 3),
    cpu_ms_per_poll: round(cpu / (flows * 5), 4),
  };
  if (server !== undefined) {
    figures['cpu_ms_per_flow'] = round(cpu / flows, 3);
    figures['server_cpu_ms_per_flow'] = round(server / flows, 3);
    figures['total_cpu_ms_per_flow'] = round((cpu + server) / flows, 3);
  }
  return { primary: 'wall_over_ideal', figures };
}

export const w3: Scenario = {
  id: 'W3',
  title: 'poll, 5 polls of 10 ms, 200 in flight',
  repeats: 3,
  run: ({ quick }) => runPoll(quick ? 1000 : 10_000, countingLevelStore(tempDir('w3')).store),
};

export const w3pg: Scenario = {
  id: 'W3pg',
  title: 'poll, PostgreSQL, 2,000 flows, 5 polls of 10 ms, 200 in flight',
  repeats: 3,
  async run({ quick }) {
    const db = await admin();
    const schema = schemaName('w3pg');
    try {
      const others = await watchOthers();
      const m = await runPoll(quick ? 200 : 2000, pgStore(schema).store, serverCpuSince);
      Object.assign(m.figures, await others.stop());
      return m;
    } finally {
      await dropSchema(db, schema);
      await db.end();
    }
  },
};
