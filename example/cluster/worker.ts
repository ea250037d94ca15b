// One engine process of the cluster: it shares the PostgreSQL database with the others, takes
// flows while its window has room, and keeps its claims alive with a heartbeat.
import { Engine } from 'vastflow';
import { classes } from './order-rivers.js';

const [url, id] = process.argv.slice(2);

const engine = await Engine.open({
  store: url!,
  classes,
  concurrency: 20,
  worker: { id: id!, heartbeat: '100ms', leaseTime: '1s' },
});
let ran = 0;
engine.on('flow:end', () => ran++);
const first = () => {
  console.log(`${id}: runs its first flow`);
  engine.off('flow:start', first);
};
engine.on('flow:start', first);
console.log(`${id}: ready`);

// SIGTERM (or the parent gone: stdin ends): a clean close releases this engine's claims at once,
// for the others to take
const stop = () =>
  void engine.close().then(() => {
    console.log(`${id}: closed after ${ran} flows`);
    process.exit(0);
  });
process.on('SIGTERM', stop);
process.stdin.on('end', stop).resume();
