// W3: poll: one river per flow with cycleTimes 6, cycleInterval 10ms, true on the 5th poll.
import { Andes, Engine, Headwaters, River, type RiverAttr, type RiverContext } from 'vastflow';
import { countingLevelStore, cpuMs, round, silent, tempDir, windowed, type Scenario } from '../common.js';

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

export const w3: Scenario = {
  id: 'W3',
  title: 'poll, 5 polls of 10 ms, 200 in flight',
  repeats: 3,
  async run({ quick }) {
    const flows = quick ? 1000 : 10_000;
    const { store } = countingLevelStore(tempDir('w3'));
    const engine = await Engine.open({ store, logger: silent, classes: [PollRiver], concurrency: 200 });
    const ids: string[] = [];
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
    // every poll's count is in the store
    for (const id of ids) {
      const snap = await engine.get(id);
      if (snap?.streams[0]?.cycles !== 5) throw new Error(`W3: flow ${id} recorded ${snap?.streams[0]?.cycles} polls, not 5`);
    }
    await engine.close();
    const idealMs = Math.ceil(flows / 200) * 50;
    return {
      primary: 'wall_over_ideal',
      figures: {
        flows,
        wall_ms: round(wallMs, 0),
        ideal_ms: idealMs,
        wall_over_ideal: round(wallMs / idealMs, 3),
        cpu_ms_per_poll: round(cpu / (flows * 5), 4),
      },
    };
  },
};
