// Run by worker-process.spec.ts in a process of its own: opens an engine on PostgreSQL (the
// schema and `listen` from argv), says READY, and does nothing more; SIGTERM closes it.
import { pino } from 'pino';
import { Engine, PostgresStore } from '../../lib/index.js';

const { url, schema, listen } = JSON.parse(process.argv[2]!) as { url: string; schema: string; listen: boolean };
const engine = await Engine.open({
  store: new PostgresStore({ connectionString: url, schema }),
  logger: pino({ level: 'silent' }),
  worker: { heartbeat: '100ms', leaseTime: '2s', listen },
});
process.once('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
process.stdout.write('READY\n');
