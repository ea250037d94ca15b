// The program the Dam crash tests run in a child process and kill with SIGKILL: one flow,
// Before → Dam('go') → After, on LevelDB (optionally killing itself around the write that consumes
// the message) or on PostgreSQL (one engine of several).
// argv[2]: JSON { store: dir | { url, schema }, kill?: 'before-consume' | 'after-consume', send?: boolean, worker?: { id, heartbeat, leaseTime } }
import { pino } from 'pino';
import { Engine, LevelStore, PostgresStore, type Store } from '../../lib/index.js';
import { hookedLevel, type BatchOps } from '../helpers/level.js';
import { damClasses, damFlow } from './dam-rivers.js';
import { journal, settings } from './rivers.js';

interface Args {
  store: string | { url: string; schema: string };
  kill?: 'before-consume' | 'after-consume';
  send?: boolean;
  worker?: { id: string; heartbeat: string; leaseTime: string };
}

/** LevelDB that SIGKILLs this process just before, or just after, the write that consumes a message. */
function killingLevel(dir: string, when: 'before-consume' | 'after-consume'): Store {
  const consumes = (ops: BatchOps) => ops.some((o) => o.type === 'del' && o.key.startsWith('m!'));
  const wrapped = hookedLevel(dir, async (ops, write) => {
    if (consumes(ops) && when === 'before-consume') process.kill(process.pid, 'SIGKILL');
    await write();
    if (consumes(ops) && when === 'after-consume') process.kill(process.pid, 'SIGKILL');
  });
  return new LevelStore(wrapped, { where: dir });
}

const args = JSON.parse(process.argv[2]!) as Args;
settings.journal = process.env['VASTFLOW_CRASH_JOURNAL'] ?? '';
journal('');
const store =
  typeof args.store === 'string'
    ? args.kill === undefined
      ? LevelStore.at(args.store)
      : killingLevel(args.store, args.kill)
    : new PostgresStore({ connectionString: args.store.url, schema: args.store.schema });
const engine = await Engine.open({ store, classes: damClasses, logger: pino({ level: 'silent' }), ...(args.worker ? { worker: args.worker } : {}) });
const run = await damFlow(engine, 'dam-0').start();
for (;;) {
  const dam = (await engine.get(run.id))?.streams[1];
  if (dam?.state === 'waiting') break;
  await new Promise((r) => setTimeout(r, 5));
}
journal(`held ${run.id} ${process.pid}`);
if (args.send === true) await engine.send(run.id, 'go', { n: 1 });
await run.result();
journal(`done ${process.pid}`);
await engine.close();
