// The logging and events guide (docs/logging-and-events.md), runnable. Run: npx tsx example/guide/events.ts
import { pino } from 'pino';
import { Andes, Engine, Headwaters, River, toMermaid, type RiverContext } from 'vastflow';

class GreetRiver extends River {
  async flow(hw: Headwaters, ctx: RiverContext) {
    // bound to flowId, requestId, river, color and attempt; values of the headwaters are never logged by vastflow
    ctx.log.info({ name: hw.getString('name') }, 'greeting');
    hw.put('greeting', `hello ${hw.getString('name')}`);
  }
}

const engine = await Engine.open({
  store: 'memory',
  logger: pino({ level: 'info' }), // or pino options; default: env VASTFLOW_LOG_LEVEL, else 'warn'
});

engine.on('flow:start', (e) => console.log(`flow:start  ${e.flowId} (${e.requestId})`));
engine.on('river:start', (e) => console.log(`river:start ${e.river} attempt ${e.attempt}`));
engine.on('river:end', (e) => console.log(`river:end   ${e.river} ${e.state}`));
engine.on('flow:end', (e) => console.log(`flow:end    ${e.status}`));

const run = await new Andes(engine).drawHeadwaters(new Headwaters('greet-1').put('name', 'Ada')).drawStream(new GreetRiver()).start();
await run.result();

// a diagram of the finished flow, each stream styled by its state
console.log(toMermaid((await engine.get(run.id))!));
await engine.close();
