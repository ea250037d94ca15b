// npm run example:order: loads the order-and-client flow from a JSON blueprint at run time and
// runs it on LevelDB (env VASTFLOW_DB, else ./.vastflow).
import fs from 'node:fs';
import { Andes, Engine } from 'vastflow';
import { orderClasses, outcomes } from './order/order-rivers.js';

const engine = await Engine.open({ classes: orderClasses });
engine.on('river:retry', (e) => console.log(`  ${e.river}: attempt ${e.attempt} failed (${e.error.message}); retry in ${e.delayMs}ms`));
engine.on('river:end', (e) => console.log(`  ${e.river}: ${e.state} after ${e.attempts} attempt(s)`));

const blueprint = JSON.parse(fs.readFileSync(new URL('./order/order-flow.json', import.meta.url), 'utf8'));
const andes = Andes.fromJSON({ ...blueprint, requestId: `order-${Date.now()}` }, engine);
console.log(andes.toMermaid());

const run = await andes.start();
const outcome = await run.result();
console.log(`flow ${outcome.id}: ${outcome.status}`);
console.log(`atlantic recorded: ${outcomes.map((o) => `${o.status}: ${o.detail}`).join('; ')}`);
await engine.close();
if (outcome.status !== 'success') process.exitCode = 1;
