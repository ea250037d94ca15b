// A W6 engine process: loads, says `loaded`, opens an engine on the schema when told `go` on
// stdin (so that what the parent times is the engines' work, not Node's start), says `ready`;
// closes on SIGTERM. Killed with SIGKILL in W6's last phase.
import { Engine } from 'vastflow';
import { diamondClasses, silent } from '../common.js';
import { pgStore } from '../pg.js';

const [schema, id] = [process.argv[2]!, process.argv[3]!];
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
