// Shared pieces of the benchmark scenarios: temp stores, the diamond flow, timing and statistics.
import { Level } from 'level';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Andes, Atlantic, Engine, Headwaters, LevelStore, ParallelRiver, River, type LevelDatabase, type RiverAttr, type Store } from 'vastflow';

export const silent = pino({ level: 'silent' });
export const VALUE_100B = 'x'.repeat(100);

export interface BenchOptions {
  quick: boolean;
}

/** One measured run of a workload: its figures, and the one the median is taken on. */
export interface Measure {
  figures: Record<string, number>;
  primary: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** Runs of which the median is reported (1 for the long W4/W5). */
  repeats: number;
  /**
   * Runs in a fresh process, without the warm-up: its memory figure would otherwise depend on how
   * far the workloads before it had grown the heap.
   */
  ownProcess?: boolean;
  run(opts: BenchOptions): Promise<Measure>;
}

const made: string[] = [];
/** A fresh temp directory, removed by cleanup(). */
export function tempDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vastflow-bench-${tag}-`));
  made.push(dir);
  return dir;
}
export function cleanup(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The operations of one LevelDB batch. */
export type BatchOps = Parameters<LevelDatabase['batch']>[0];

/**
 * A LevelDB-backed store that shows `onBatch` every batch before writing it. It declares the
 * database's `supports` and passes every call through (`getSync` too), so that the store takes the
 * paths it takes on a bare LevelDB (chained batches, lookups on the calling thread); the ops of a
 * chained batch are shown at its write.
 */
export function observedLevelStore(dir: string, onBatch: (ops: BatchOps) => void, sync = false): Store {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const chained = (): unknown => {
    const batch = db.batch();
    const ops: BatchOps = [];
    return {
      put: (key: string, value: string) => (ops.push({ type: 'put', key, value }), batch.put(key, value)),
      del: (key: string) => (ops.push({ type: 'del', key }), batch.del(key)),
      write: (o?: { sync?: boolean }) => (onBatch(ops), batch.write(o ?? {})),
      close: () => batch.close(),
    };
  };
  const observed = {
    get status() {
      return db.status;
    },
    supports: db.supports,
    open: () => db.open(),
    close: () => db.close(),
    get: (k: string) => db.get(k),
    getMany: (keys: string[]) => db.getMany(keys),
    // read on the calling thread, as LevelStore does on a bare LevelDB (supports.getSync)
    getSync: (k: string) => db.getSync(k),
    iterator: (o: Parameters<LevelDatabase['iterator']>[0]) => db.iterator(o),
    batch: (ops?: BatchOps, o?: { sync?: boolean }) => {
      if (ops === undefined) return chained();
      onBatch(ops);
      return db.batch(ops, o ?? {});
    },
  };
  return new LevelStore(observed as unknown as LevelDatabase, { sync, where: dir });
}

/** A LevelDB-backed store that counts the records (puts and dels) it writes. */
export function countingLevelStore(dir: string, sync = false): { store: Store; records: () => number; batches: () => number } {
  let records = 0;
  let batches = 0;
  const store = observedLevelStore(dir, (ops) => ((records += ops.length), batches++), sync);
  return { store, records: () => records, batches: () => batches };
}

// The diamond: ParallelRiver(A, B) then C; every river durable, writing 100 bytes.
class DiamondRiver extends River<{ key: string }> {
  static riverName = 'BenchDiamond';
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  flow(hw: Headwaters) {
    hw.put(this.config!.key, VALUE_100B);
  }
}

/** A river parked in a 1-minute cycle that never ends by itself (W4, bench:heap). */
export class ParkedRiver extends River {
  static riverName = 'BenchParked';
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = '1m';
  }
  cycle() {
    return false;
  }
}

/** Records when each flow's Atlantic ran. */
export class EndClock extends Atlantic {
  static riverName = 'BenchEnd';
  static ended = new Map<string, number>();
  success(hw: Headwaters) {
    EndClock.ended.set(hw.requestId, performance.now());
  }
}

export const diamondClasses = [DiamondRiver, EndClock];

export function diamond(engine: Engine, requestId: string): Andes {
  return new Andes(engine)
    .drawHeadwaters(new Headwaters(requestId))
    .drawStream(new ParallelRiver().append(new DiamondRiver({ key: 'a' })).append(new DiamondRiver({ key: 'b' })))
    .drawStream(new DiamondRiver({ key: 'c' }))
    .drawAtlantic(new EndClock());
}

/** Runs `total` jobs keeping at most `window` in flight. */
export async function windowed(total: number, window: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, worker));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU ms (user + system) used by this process since `since`. */
export function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Samples the RSS every 20 ms; stop() returns the peak in MB. */
export function rssPeak(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage.rss()) / 1048576;
    },
  };
}

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
