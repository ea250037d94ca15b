// The W5 child: starts W1's flows (all recorded up front, 200 running), reports progress on stdout,
// and is killed by the parent with SIGKILL halfway through.
import { Engine } from 'vastflow';
import { diamond, diamondClasses, EndClock, silent } from '../common.js';

const [dir, total] = [process.argv[2]!, Number(process.argv[3])];
const engine = await Engine.open({ store: dir, logger: silent, classes: diamondClasses, concurrency: 200 });
const runs = [];
for (let i = 0; i < total; i += 500) {
  runs.push(...(await Promise.all(Array.from({ length: Math.min(500, total - i) }, (_, j) => diamond(engine, `w5-${i + j}`).start()))));
}
process.stdout.write('started\n');
let reported = 0;
setInterval(() => {
  if (EndClock.ended.size >= reported + 100) process.stdout.write(`ended ${(reported = EndClock.ended.size)}\n`);
}, 1);
await Promise.all(runs.map((r) => r.result()));
