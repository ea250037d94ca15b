// W4: parked: 100,000 flows waiting in a cycle (cycleInterval 1m), all started; then cancelled.
// Runs in a process of its own. Memory per parked flow is the growth of RSS while the last 90 %
// of the flows park, divided by their number: the first 10 % pay what a process pays once (the JIT's
// code, V8's young generation grown to its working size, LevelDB's memtable), which the total growth
// divided by all the flows (also printed) would spread over them.
import { Andes, Engine, Headwaters, ParallelRiver, type Stream } from 'vastflow';
import { countingLevelStore, ParkedRiver, round, silent, tempDir, windowed, type Scenario } from '../common.js';

function rssAtRest(): number {
  global.gc?.();
  return process.memoryUsage.rss();
}

/** W4 and W4n: flows parked at the top level, or inside a two-branch ParallelRiver whose branches both poll. */
function parked(id: string, title: string, streams: () => Stream[]): Scenario {
  return {
    id,
    title,
    repeats: 1,
    ownProcess: true,
    run: ({ quick }) => runParked(quick, streams),
  };
}

export const w4 = parked('W4', 'parked: flows waiting in a 1-minute cycle', () => [new ParkedRiver()]);
export const w4n = parked('W4n', 'parked inside a ParallelRiver: both branches waiting in a 1-minute cycle', () => [
  new ParallelRiver().append(new ParkedRiver()).append(new ParkedRiver()),
]);

async function runParked(quick: boolean, streams: () => Stream[]) {
  {
    const flows = quick ? 10_000 : 100_000;
    const first = flows / 10;
    const { store } = countingLevelStore(tempDir('w4'));
    const engine = await Engine.open({ store, logger: silent, classes: [ParkedRiver], concurrency: flows });
    const rssOpen = rssAtRest();
    const ids: string[] = new Array(flows);
    const t0 = performance.now();
    // started as W1 starts its flows, 200 at a time: the burst size sets how much of the starts'
    // garbage V8 promotes into the pages where the parked flows live (1,000 at a time costs about
    // 10 % more RSS per flow, 10,000 at a time nearly twice as much)
    const park = async (i: number): Promise<void> => {
      const run = await new Andes(engine)
        .drawHeadwaters(new Headwaters(`w4-${i}`))
        .drawStream(...streams())
        .start();
      ids[i] = run.id;
    };
    await windowed(first, 200, park);
    const paused = performance.now();
    await new Promise((r) => setTimeout(r, 100)); // the first flows reach their wait
    const rssFirst = rssAtRest();
    const pausedMs = performance.now() - paused;
    await windowed(flows - first, 200, (i) => park(first + i));
    const startMs = performance.now() - t0 - pausedMs;
    // let every flow reach its wait
    await new Promise((r) => setTimeout(r, 200));
    const rssAll = rssAtRest();
    const t1 = performance.now();
    await Promise.all(ids.map((id) => engine.cancel(id, 'bench')));
    const cancelMs = performance.now() - t1;
    await engine.close();
    return {
      primary: 'start_ms' as const,
      figures: {
        flows,
        start_ms: round(startMs, 0),
        rss_bytes_per_flow: round((rssAll - rssFirst) / (flows - first), 0),
        rss_bytes_per_flow_total: round((rssAll - rssOpen) / flows, 0),
        cancel_ms: round(cancelMs, 0),
      },
    };
  }
}
