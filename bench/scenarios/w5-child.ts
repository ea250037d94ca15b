// The W5 child: starts W1's flows (all recorded up front, 200 running), reports progress on stdout,
// and is killed by the parent with SIGKILL halfway through. Its store: a LevelDB directory, or
// `pg:<schema>` for W5pg (worker W5PG_WORKER, heartbeat 200ms, lease 1s).
import { Engine, type Store } from 'vastflow';
import { diamond, diamondClasses, EndClock, silent } from '../common.js';
import { pgStore, W5PG_WORKER } from '../pg.js';

const [where, total] = [process.argv[2]!, Number(process.argv[3])];
const store: string | Store = where.startsWith('pg:') ? pgStore(where.slice(3)).store : where;
const engine = await Engine.open({
  store,
  logger: silent,
  classes: diamondClasses,
  concurrency: 200,
  ...(typeof store === 'string' ? {} : { worker: { id: W5PG_WORKER, heartbeat: '200ms', leaseTime: '1s' } }),
});
const runs = [];
for (let i = 0; i < total; i += 500) {
  runs.push(...(await Promise.all(Array.from({ length: Math.min(500, total - i) }, (_, j) => diamond(engine, `w5-${i + j}`).start()))));
}
process.stdout.write('started\n');
let reported = 0;
setInterval(() => {
  if (EndClock.ended.size >= reported + 100) process.stdout.write(`ended ${(reported = EndClock.ended.size)}\n`);
}, 1);
// on PostgreSQL the flows that wait in the store are not awaited: the result of a flow this engine
// does not hold yet is read from the store by polling, which would load this process
if (typeof store === 'string') await Promise.all(runs.map((r) => r.result()));
