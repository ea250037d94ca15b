// Where the memory of a parked flow goes: parks 10,000 flows in a 1-minute cycle, takes a heap
// snapshot and prints bytes per flow by V8 object type. Run: npm run bench:heap
import fs from 'node:fs';
import v8 from 'node:v8';
import { Andes, Engine, Headwaters } from 'vastflow';
import { cleanup, ParkedRiver, silent, tempDir } from '../common.js';

const flows = 10_000;
const engine = await Engine.open({ store: tempDir('heap'), logger: silent, classes: [ParkedRiver], concurrency: flows });
for (let i = 0; i < flows; i += 1000) {
  await Promise.all(
    Array.from({ length: 1000 }, (_, j) =>
      new Andes(engine)
        .drawHeadwaters(new Headwaters(`h-${i + j}`))
        .drawStream(new ParkedRiver())
        .start(),
    ),
  );
}
await new Promise((r) => setTimeout(r, 300));
global.gc?.();
const file = v8.writeHeapSnapshot(`${tempDir('heap-snap')}/parked.heapsnapshot`);
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
const rows = [...by].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25);
console.log(rows.map(([k, [size, count]]) => `${(size / flows).toFixed(0).padStart(6)} B/flow ${String(count).padStart(8)}  ${k}`).join('\n'));
await engine.close();
cleanup();
