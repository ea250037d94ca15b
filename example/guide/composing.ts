// The composing guide (docs/composing.md), runnable: parallel branches, a basin, a fork, nesting.
// Run: npx tsx example/guide/composing.ts
import { Andes, Basin, Engine, Fork, Headwaters, ParallelRiver, River } from 'vastflow';

class Step extends River<{ key: string; value: string }> {
  async flow(hw: Headwaters) {
    hw.put(this.config!.key, this.config!.value);
  }
}

class SizeFork extends Fork {
  choose(hw: Headwaters) {
    return hw.getNumber('size')! > 100 ? 'big' : 'small';
  }
}

const engine = await Engine.open({ store: 'memory' });

// branches run at the same time on the same headwaters; a branch of several streams runs in order
const parallel = new ParallelRiver()
  .append(new Step({ key: 'vm', value: 'vm-1' }))
  .append(new Step({ key: 'volume', value: 'vol-1' }), new Step({ key: 'formatted', value: 'yes' }));

// a basin works on a copy: its writes reach the flow only when all of it succeeded
const basin = new Basin('blue').drawStream(new Step({ key: 'dns', value: 'vm-1.example.com' }), new Step({ key: 'cert', value: 'issued' }));

// a fork runs one branch, chosen at run time; the choice is recorded
const fork = new SizeFork().branch('big', new Step({ key: 'disk', value: 'ssd-1tb' })).branch('small', new Step({ key: 'disk', value: 'ssd-100gb' }));

// any stream can sit inside any other, to any depth
const nested = new ParallelRiver().append(new Basin('green').drawStream(new ParallelRiver().append(new Step({ key: 'x', value: '1' })).append(new Step({ key: 'y', value: '2' }))));

const run = await new Andes(engine)
  .drawHeadwaters(new Headwaters('compose-1').put('size', 500))
  .drawStream(parallel, basin, fork, nested)
  .start();
const outcome = await run.result();
console.log(outcome.status, outcome.headwaters);

const snapshot = await engine.get(run.id);
for (const s of snapshot!.streams) console.log(`${s.id.padEnd(10)} ${s.kind.padEnd(8)} ${s.name.padEnd(13)} ${s.color.padEnd(7)} ${s.state}${s.choice ? ` (chose ${s.choice})` : ''}`);
await engine.close();
