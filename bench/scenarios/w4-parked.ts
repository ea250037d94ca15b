// W4: parked: 100,000 flows waiting in a cycle (cycleInterval 1m), all started; then cancelled.
import { Andes, Engine, Headwaters } from 'vastflow';
import { countingLevelStore, ParkedRiver, round, silent, tempDir, type Scenario } from '../common.js';

export const w4: Scenario = {
  id: 'W4',
  title: 'parked: flows waiting in a 1-minute cycle',
  repeats: 1,
  async run({ quick }) {
    const flows = quick ? 10_000 : 100_000;
    const { store } = countingLevelStore(tempDir('w4'));
    const engine = await Engine.open({ store, logger: silent, classes: [ParkedRiver], concurrency: flows });
    global.gc?.();
    const rss0 = process.memoryUsage.rss();
    const t0 = performance.now();
    const runs = [];
    const batch = 1000;
    for (let i = 0; i < flows; i += batch) {
      const started = await Promise.all(
        Array.from({ length: Math.min(batch, flows - i) }, (_, j) => new Andes(engine).drawHeadwaters(new Headwaters(`w4-${i + j}`)).drawStream(new ParkedRiver()).start()),
      );
      runs.push(...started);
    }
    const startMs = performance.now() - t0;
    // let every flow reach its wait
    await new Promise((r) => setTimeout(r, 200));
    global.gc?.();
    const rssPerFlow = (process.memoryUsage.rss() - rss0) / flows;
    const t1 = performance.now();
    await Promise.all(runs.map((r) => r.cancel('bench')));
    const cancelMs = performance.now() - t1;
    await engine.close();
    return { primary: 'start_ms', figures: { flows, start_ms: round(startMs, 0), rss_bytes_per_flow: round(rssPerFlow, 0), cancel_ms: round(cancelMs, 0) } };
  },
};
