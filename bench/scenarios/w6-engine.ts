// A W6 engine process: warms up, loads, says `loaded`, opens an engine on the schema when told
// `go` on stdin (so that what the parent times is the engines' work, not Node's start or V8's
// first compiles), says `ready`; closes on SIGTERM. Killed with SIGKILL in W6's last phase.
//
// The warm-up runs W6's own path on a schema of its own (dropped after): 3,000 diamond flows
// recorded as waiting by a client engine, then claimed and run by an engine with a worker id, as
// in the timed part. So every engine process enters the timed part with its hot paths compiled: a
// cold process spends about 0.8 s of CPU on its first 3,000 flows beyond what it spends once warm
// (0.79, 0.40, 0.30 ms per flow for the first three thousands, then 0.17-0.26), and W6 would
// otherwise charge that once per engine process, which is a start cost, not the contention W6
// measures. A warm-up of flows the engine starts itself left the claim path (claims that load the
// flows, their first writes) to be compiled in the timed part. `W6_COLD=1` skips it.
import { Engine } from 'vastflow';
import { diamond, diamondClasses, silent, windowed } from '../common.js';
import { admin, allEnded, dropSchema, pgStore, sleep } from '../pg.js';

const [schema, id] = [process.argv[2]!, process.argv[3]!];
const WARM_UP_FLOWS = 3000;

async function warmUp(): Promise<void> {
  const scratch = `${schema}_warm_${id.replace(/\W/g, '_')}`.toLowerCase();
  const db = await admin();
  try {
    const client = await Engine.open({ store: pgStore(scratch).store, logger: silent, classes: diamondClasses, concurrency: 0 });
    await windowed(WARM_UP_FLOWS, 500, async (i) => void (await diamond(client, `warm-${i}`).start()));
    await client.close();
    const engine = await Engine.open({
      store: pgStore(scratch).store,
      logger: silent,
      classes: diamondClasses,
      concurrency: 200,
      worker: { id, heartbeat: '200ms', leaseTime: '1s' },
    });
    while (!(await allEnded(db, scratch))) await sleep(20);
    await engine.close();
  } finally {
    await dropSchema(db, scratch);
    await db.end();
  }
}

if (process.env['W6_COLD'] !== '1') await warmUp();
let engine: Engine | undefined;
process.stdin.once('data', () => {
  void Engine.open({
    store: pgStore(schema).store,
    logger: silent,
    classes: diamondClasses,
    concurrency: 200,
    worker: { id, heartbeat: '200ms', leaseTime: '1s' },
  }).then((e) => {
    engine = e;
    process.stdout.write('ready\n');
  });
});
process.on('SIGTERM', () => {
  void (engine?.close() ?? Promise.resolve()).then(() => process.exit(0));
});
process.stdout.write('loaded\n');
