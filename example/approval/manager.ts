// The second process of the approval example: an API-like client engine (it runs no flow) that
// starts two purchases, then approves the first once it waits at its Dam; the second is left to
// time out.
import { Engine } from 'vastflow';
import { classes, purchase } from './purchase.js';

const engine = await Engine.open({ store: process.argv[2]!, classes, concurrency: 0, worker: { id: 'manager' } });
const laptop = await purchase(engine, 'laptop-1', 1400).start();
await purchase(engine, 'chair-7', 300).start();
console.log('manager: started laptop-1 and chair-7');

// wait until the laptop's purchase is held at its Dam, then send the decision
for (;;) {
  const dam = (await engine.get(laptop.id))?.streams.find((s) => s.kind === 'dam');
  if (dam?.state === 'waiting') break;
  await new Promise((r) => setTimeout(r, 20));
}
await engine.send('laptop-1', 'approval', { ok: true, by: 'alice' });
console.log('manager: sent approval for laptop-1');
await engine.close();
