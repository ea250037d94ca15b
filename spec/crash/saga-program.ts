// The user program the compensation crash tests run in a child process and kill with SIGKILL.
// argv[2]: JSON { dir } (LevelDB) or { pg: { url, schema } }, plus { scenario, requestId }
import { pino } from 'pino';
import { Andes, Engine, PostgresStore } from '../../lib/index.js';
import { journal } from './rivers.js';
import { drawSaga, sagaClasses, type SagaScenario } from './saga-rivers.js';

interface Args {
  dir?: string;
  pg?: { url: string; schema: string };
  scenario: SagaScenario;
  requestId: string;
}

const args = JSON.parse(process.argv[2]!) as Args;
journal('');
const engine = await Engine.open({
  store: args.pg === undefined ? args.dir! : new PostgresStore({ connectionString: args.pg.url, schema: args.pg.schema }),
  classes: sagaClasses,
  logger: pino({ level: 'silent' }),
  // a short lease: the recovering engine takes the killed one's flow soon after
  worker: { leaseTime: '1500ms', heartbeat: '300ms' },
});
journal(`opened ${process.pid}`);
const run = await drawSaga(new Andes(engine), args.scenario, args.requestId).start();
const outcome = await run.result();
journal(`all-done ${outcome.status}`);
await engine.close();
