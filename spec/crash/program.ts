// The user program the crash tests run in a child process and kill with SIGKILL.
// argv[2]: JSON { dir, scenario, flows, concurrency?, retryIntervalMs?, killOnRiverEnd? }
import { pino } from 'pino';
import { Andes, Engine } from '../../lib/index.js';
import { allClasses, draw, journal, type Scenario } from './rivers.js';

interface Args {
  dir: string;
  scenario: Scenario;
  flows: number;
  concurrency?: number;
  retryIntervalMs?: number;
  /** SIGKILL this process inside the listener of the first river:end it hears. */
  killOnRiverEnd?: boolean;
}

const args = JSON.parse(process.argv[2]!) as Args;
// end a line the killed child before may have left torn (a write crossing a page boundary of the
// file can be cut short by SIGKILL), so that this child's lines are not glued to it
journal('');
const engine = await Engine.open({
  store: args.dir,
  classes: allClasses,
  concurrency: args.concurrency ?? 500,
  logger: pino({ level: 'silent' }),
});
journal(`opened ${process.pid}`);
if (args.killOnRiverEnd === true) {
  engine.on('river:end', (e) => {
    journal(`heard ${e.requestId} ${e.streamId} ${e.state}`);
    process.kill(process.pid, 'SIGKILL');
  });
}
const runs = [];
for (let i = 0; i < args.flows; i++) {
  // idempotent: a flow recovered from an earlier run is returned, not started again
  runs.push(await draw(new Andes(engine), args.scenario, `${args.scenario}-${i}`, args.retryIntervalMs).start());
}
journal(`started ${runs.length}`);
const outcomes = await Promise.all(runs.map((r) => r.result()));
journal(`all-done ${outcomes.filter((o) => o.status === 'success').length}`);
await engine.close();
