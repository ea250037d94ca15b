// The child of the kill-storm test: opens an Engine on a LevelDB directory (which resumes the
// flows an earlier, killed child left unfinished), starts every flow idempotently by requestId,
// waits for all of them and journals `all-done`. Killed with SIGKILL at random moments.
// argv[2]: JSON { dir, flows, concurrency, scenario: 'storm' | 'hang', held? }; a held child
// waits, its modules loaded, for a line on stdin (helpers/child.ts: release) before it starts.
import { pino } from 'pino';
import { Andes, Engine } from '../../lib/index.js';
import { drawShape, endTornLine, hangShape, journal, shapeOf, stormClasses, stormRequestId } from './storm-rivers.js';

interface Args {
  dir: string;
  flows: number;
  concurrency: number;
  scenario: 'storm' | 'hang';
  held?: boolean;
}

const args = JSON.parse(process.argv[2]!) as Args;
if (args.held === true) {
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy();
}
// before open: recovery may run rivers before Engine.open resolves, and the test splits the
// journal into the runs of successive children at these lines
endTornLine();
journal('boot');
const engine = await Engine.open({ store: args.dir, classes: stormClasses, concurrency: args.concurrency, logger: pino({ level: 'silent' }) });
journal('opened');
const runs = [];
for (let i = 0; i < args.flows; i++) {
  const shape = args.scenario === 'hang' ? hangShape : shapeOf(i);
  runs.push(await drawShape(new Andes(engine), args.scenario === 'hang' ? `hang-${i}` : stormRequestId(i), shape).start());
}
journal(`started ${runs.length}`);
const outcomes = await Promise.all(runs.map((r) => r.result()));
const ok = outcomes.filter((o) => o.status === 'success').length;
journal(`all-done ${ok} ${outcomes.length - ok}`);
await engine.close();
