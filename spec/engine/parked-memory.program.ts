// Run by parked-records.spec.ts in a process of its own (node --expose-gc): parks flows as W4n does,
// inside a two-branch ParallelRiver whose branches both wait a minute, on LevelDB in a temp
// directory, and prints the heap each flow parked after the first thousand holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Andes, Engine, Headwaters, ParallelRiver, River, type RiverAttr } from '../../lib/index.js';

class Waits extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = '1m';
  }
  cycle() {
    return false;
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-parked-memory-'));
const engine = await Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Waits], concurrency: 10_000 });
const park = (from: number, count: number) =>
  Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Andes(engine)
        .drawHeadwaters(new Headwaters(`parked-${from + i}`))
        .drawStream(new ParallelRiver().append(new Waits()).append(new Waits()))
        .start(),
    ),
  );
const heap = async () => {
  // every flow reaches its wait
  await new Promise((r) => setTimeout(r, 150));
  global.gc!();
  return process.memoryUsage().heapUsed;
};
await park(0, 1_000);
const before = await heap();
for (let i = 1_000; i < 6_000; i += 500) await park(i, 500);
const after = await heap();
await engine.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bytesPerFlow: Math.round((after - before) / 5_000) }));
