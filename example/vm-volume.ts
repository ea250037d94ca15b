// npm start: runs the VM-and-volume flow on the default engine (LevelDB in ./.vastflow, or env VASTFLOW_DB).
import { Engine } from 'vastflow';
import { printProgress, vmVolumeFlow } from './vm-volume-flow.js';

const engine = await Engine.default();
printProgress(engine);

const requestId = `vm-${Date.now()}`;
console.log(`starting flow ${requestId}`);
const run = await vmVolumeFlow(undefined, requestId, 'web-1').start();
const outcome = await run.result();
console.log(`flow ${outcome.id}: ${outcome.status}`);
console.log('headwaters:', JSON.stringify(outcome.headwaters));
await engine.close();
if (outcome.status !== 'success') process.exitCode = 1;
