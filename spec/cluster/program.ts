// One engine of the cluster tests, in a child process: opens an engine on a PostgreSQL schema with
// the given worker id, heartbeat, lease and window, optionally starts flows itself, and then runs
// until it is killed or told to close. Lines on stdin: `open` (when started with `deferOpen`: the
// modules load while the test sets up, the engine opens when told), `close` (closes the engine
// and exits 0). stdin ending (the test process died) closes it too.
// argv[2]: JSON of Args; env: VASTFLOW_CLUSTER_JOURNAL, VASTFLOW_CLUSTER_ENGINE, VASTFLOW_CLUSTER_HOLD(_MS).
import readline from 'node:readline';
import { pino } from 'pino';
import { Andes, Engine, PostgresStore } from '../../lib/index.js';
import { classesByName, draw, journal, settings, type ClassName, type Kind } from './rivers.js';

export interface Args {
  url: string;
  schema: string;
  id: string;
  heartbeat: string;
  leaseTime: string;
  concurrency: number;
  /** The classes this engine registers; all of them by default. */
  classes?: ClassName[];
  /** Flows this engine starts itself once open: `<prefix>-0` … */
  flows?: { kind: Kind; prefix: string; count: number; intervalMs?: number };
  deferOpen?: boolean;
}

const args = JSON.parse(process.argv[2]!) as Args;
settings.engine = args.id;
const lines = readline.createInterface({ input: process.stdin });
const waiting: Array<(line: string | undefined) => void> = [];
const pending: Array<string | undefined> = [];
lines.on('line', (l) => waiting.shift()?.(l) ?? pending.push(l));
lines.on('close', () => waiting.shift()?.(undefined) ?? pending.push(undefined));
const nextLine = (): Promise<string | undefined> => (pending.length > 0 ? Promise.resolve(pending.shift()) : new Promise((r) => waiting.push(r)));

if (args.deferOpen === true) {
  const line = await nextLine();
  if (line !== 'open') process.exit(0);
}

const level = process.env['VASTFLOW_CLUSTER_LOG'] ?? 'silent';
const engine = await Engine.open({
  store: new PostgresStore({ connectionString: args.url, schema: args.schema }),
  classes: (args.classes ?? (Object.keys(classesByName) as ClassName[])).map((n) => classesByName[n]),
  concurrency: args.concurrency,
  worker: { id: args.id, heartbeat: args.heartbeat as '1s', leaseTime: args.leaseTime as '1s' },
  logger: pino({ level, base: { engine: args.id } }, pino.destination(2)),
});
journal(`# opened ${args.id} ${process.pid}`);
if (args.flows !== undefined) {
  const { kind, prefix, count, intervalMs } = args.flows;
  for (let i = 0; i < count; i++) {
    const options = intervalMs === undefined ? {} : { intervalMs };
    await draw(new Andes(engine), kind, `${prefix}-${i}`, options).start();
  }
  journal(`# started ${args.id} ${count}`);
}
for (;;) {
  const line = await nextLine();
  if (line === 'close' || line === undefined) break;
}
await engine.close();
journal(`# closed ${args.id}`);
process.exit(0);
