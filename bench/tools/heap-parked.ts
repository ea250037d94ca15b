// Where the memory of a parked flow goes: parks 10,000 flows in a 1-minute cycle, takes a heap
// snapshot and prints bytes per flow by V8 object type. Run: npm run bench:heap
// With `--nested` (or HEAP_SHAPE=W4n) the flows park as W4n's do: inside a two-branch ParallelRiver
// whose branches both wait in the cycle; else at the top level, as W4's do. HEAP_FLOWS sets how many
// flows park (two counts, compared, leave out what the process holds once).
import fs from 'node:fs';
import v8 from 'node:v8';
import { Andes, Engine, Headwaters, ParallelRiver, type Stream } from 'vastflow';
import { cleanup, ParkedRiver, silent, tempDir } from '../common.js';

const nested = process.argv.includes('--nested') || process.env['HEAP_SHAPE'] === 'W4n';
const streams = (): Stream[] => (nested ? [new ParallelRiver().append(new ParkedRiver()).append(new ParkedRiver())] : [new ParkedRiver()]);
const flows = Number(process.env['HEAP_FLOWS'] ?? 10_000);
const engine = await Engine.open({ store: tempDir('heap'), logger: silent, classes: [ParkedRiver], concurrency: flows });
for (let i = 0; i < flows; i += 1000) {
  await Promise.all(
    Array.from({ length: 1000 }, (_, j) =>
      new Andes(engine)
        .drawHeadwaters(new Headwaters(`h-${i + j}`))
        .drawStream(...streams())
        .start(),
    ),
  );
}
await new Promise((r) => setTimeout(r, 300));
global.gc?.();
const file = v8.writeHeapSnapshot(`${tempDir('heap-snap')}/parked.heapsnapshot`);
// HEAP_KEEP=file keeps the snapshot there, to open in DevTools
if (process.env['HEAP_KEEP'] !== undefined) fs.copyFileSync(file, process.env['HEAP_KEEP']);
const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  snapshot: { meta: { node_fields: string[]; node_types: string[][] } };
  nodes: number[];
  strings: string[];
};
const width = snap.snapshot.meta.node_fields.length;
const types = snap.snapshot.meta.node_types[0]!;
const by = new Map<string, [number, number]>();
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i]!]!;
  const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + 1]!]}` : type;
  const e = by.get(key) ?? [0, 0];
  e[0] += snap.nodes[i + 3]!;
  e[1]++;
  by.set(key, e);
}
const rows = [...by].sort((a, b) => b[1][0] - a[1][0]).slice(0, 30);
console.log(`${nested ? 'W4n (parked inside a ParallelRiver)' : 'W4 (parked at the top level)'}: ${flows} flows`);
console.log(
  rows.map(([k, [size, count]]) => `${(size / flows).toFixed(0).padStart(6)} B/flow ${(count / flows).toFixed(2).padStart(7)}/flow  ${k}`).join('\n'),
);
await engine.close();
cleanup();
