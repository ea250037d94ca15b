// W1: diamond: ParallelRiver(A, B) then C, every river durable, 100 bytes each; 200 flows in flight.
// W1s (one flow at a time), W1f (sync: true) and W2 (memory store) are variants of this run.
import { Engine, type Store } from 'vastflow';
import {
  countingLevelStore,
  cpuMs,
  diamond,
  diamondClasses,
  EndClock,
  percentile,
  round,
  rssPeak,
  silent,
  tempDir,
  windowed,
  type Measure,
  type Scenario,
} from '../common.js';

export interface DiamondOptions {
  flows: number;
  window: number;
  /** LevelDB in a temp dir (its records counted), the memory store, or a given store. */
  store: 'level' | 'memory' | Store;
  sync?: boolean;
  /** Starts measuring the database server's CPU (PostgreSQL); the function it returns gives the ms since. */
  serverCpu?: () => () => number;
  /** Write transactions the store has made so far (PostgreSQL). */
  writes?: () => number;
}

export async function runDiamond(o: DiamondOptions): Promise<Measure> {
  const counting = o.store === 'level' ? countingLevelStore(tempDir('w1'), o.sync ?? false) : undefined;
  const engine = await Engine.open({ store: counting?.store ?? o.store, logger: silent, classes: diamondClasses, concurrency: Math.max(o.window, 1) });
  EndClock.ended.clear();
  const latencies: number[] = [];
  const rss = rssPeak();
  const serverSince = o.serverCpu?.();
  const writes0 = o.writes?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await windowed(o.flows, o.window, async (i) => {
    const requestId = `w1-${i}`;
    const started = performance.now();
    const outcome = await (await diamond(engine, requestId).start()).result();
    if (outcome.status !== 'success') throw new Error(`flow ${requestId} ended ${outcome.status}`);
    latencies.push(EndClock.ended.get(requestId)! - started);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(cpu0);
  const server = serverSince?.();
  const writes = writes0 === undefined ? undefined : o.writes!() - writes0;
  const peakMb = rss.stop();
  await engine.close();
  latencies.sort((a, b) => a - b);
  const figures: Record<string, number> = {
    flows: o.flows,
    flows_per_s: round(o.flows / seconds, 0),
    rivers_per_s: round((o.flows * 3) / seconds, 0),
    p50_ms: round(percentile(latencies, 50), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    cpu_ms_per_flow: round(cpu / o.flows, 3),
    peak_rss_mb: round(peakMb, 0),
  };
  if (server !== undefined) {
    figures['server_cpu_ms_per_flow'] = round(server / o.flows, 3);
    figures['total_cpu_ms_per_flow'] = round((cpu + server) / o.flows, 3);
  }
  if (writes !== undefined) figures['flows_per_write'] = round(o.flows / writes, 2);
  if (counting !== undefined) {
    figures['records_per_flow'] = round(counting.records() / o.flows, 2);
    figures['records_per_s'] = round(counting.records() / seconds, 0);
    figures['flows_per_batch'] = round(o.flows / counting.batches(), 2);
  }
  return { primary: 'flows_per_s', figures };
}

export const w1: Scenario = {
  id: 'W1',
  title: 'diamond, LevelDB, 200 in flight',
  repeats: 3,
  run: ({ quick }) => runDiamond({ flows: quick ? 1000 : 10_000, window: 200, store: 'level' }),
};
