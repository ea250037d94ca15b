// The PlanCache: flows drawn alike share one compiled plan; each keeps its own River and Fork objects.
import { expect } from 'chai';
import { riverAt, forkAt, type RiverNode, type ForkNode } from '../../lib/engine/plan.js';
import { PlanCache } from '../../lib/engine/plan-cache.js';
import { Basin } from '../../lib/model/basin.js';
import { Dam } from '../../lib/model/dam.js';
import { Fork } from '../../lib/model/fork.js';
import type { Headwaters } from '../../lib/model/headwaters.js';
import { ParallelRiver } from '../../lib/model/parallel-river.js';
import type { RiverAttr } from '../../lib/model/river-attr.js';
import { River } from '../../lib/model/river.js';
import type { Stream } from '../../lib/model/stream.js';

class Poll extends River<{ times?: number }> {
  static riverName = 'PlanCachePoll';
  update(attr: RiverAttr) {
    attr.cycleTimes = this.config?.times ?? 3;
  }
  cycle() {
    return false;
  }
}
class Other extends River {
  static riverName = 'PlanCacheOther';
}
class Pick extends Fork {
  static riverName = 'PlanCachePick';
  choose(_hw: Headwaters) {
    return 'a';
  }
}

const poll = (times?: number) => new Poll(times === undefined ? undefined : { times });
const drawing = (times?: number): Stream[] => [
  new ParallelRiver().append(poll(times)).append(poll(times)),
  new Basin('blue').drawStream(new Other()),
  new Pick().branch('a', new Other()).branch('b', new Other()),
  new Dam('go', { key: 'go', timeout: '1m' }),
];

describe('PlanCache', () => {
  it('gives flows drawn alike one plan, and each flow its own River and Fork objects', () => {
    const cache = new PlanCache();
    const a = cache.compile(drawing());
    const b = cache.compile(drawing());
    expect(b.plan).to.equal(a.plan);
    expect(b.instances).to.not.equal(a.instances);
    for (const n of a.plan.nodes) {
      if (n.kind === 'river') expect(riverAt(b.instances, n)).to.be.instanceOf(n.cls).and.not.equal(riverAt(a.instances, n));
      else if (n.kind === 'fork') expect(forkAt(b.instances, n)).to.be.instanceOf(Pick).and.not.equal(forkAt(a.instances, n));
      else expect(b.instances[n.index]).to.equal(undefined);
    }
    expect(b.instances.length).to.equal(a.plan.nodes.length);
  });

  it('keeps plans apart when what update() set, a color, a class, a branch name or a Dam differs', () => {
    const cache = new PlanCache();
    const base = cache.compile(drawing()).plan;
    const variants: Stream[][] = [
      drawing(4),
      [new ParallelRiver().append(new Poll()).append(new Poll().withColor('red')), ...drawing().slice(1)],
      [new ParallelRiver().append(new Poll()).append(new Other()), ...drawing().slice(1)],
      [...drawing().slice(0, 2), new Pick().branch('a', new Other()).branch('c', new Other()), ...drawing().slice(3)],
      [...drawing().slice(0, 3), new Dam('go', { key: 'go', timeout: '2m' })],
      [new ParallelRiver().append(new Poll(), new Poll()), ...drawing().slice(1)],
    ];
    const plans = variants.map((v) => cache.compile(v).plan);
    for (const p of plans) expect(p).to.not.equal(base);
    expect(new Set(plans).size).to.equal(plans.length);
    const attr = (p: typeof base) => (p.nodes.find((n) => n.kind === 'river') as RiverNode).attr.cycleTimes;
    expect(attr(plans[0]!)).to.equal(4);
    expect(attr(base)).to.equal(3);
    expect((plans[3]!.nodes.find((n) => n.kind === 'fork') as ForkNode).branches.has('c')).to.equal(true);
    // and each variant, drawn again, finds its own plan
    expect(cache.compile(drawing(4)).plan).to.equal(plans[0]);
  });

  it('runs update() for every flow compiled, shared plan or not', () => {
    let calls = 0;
    class Counted extends River {
      static riverName = 'PlanCacheCounted';
      update() {
        calls++;
      }
    }
    const cache = new PlanCache();
    cache.compile([new Counted()]);
    cache.compile([new Counted()]);
    expect(calls).to.equal(2);
  });

  it('still throws what compile() throws', () => {
    const cache = new PlanCache();
    const r = new Other();
    expect(() => cache.compile([r, r]))
      .to.throw()
      .with.property('code', 'E_DUPLICATE_STREAM');
    expect(() => cache.compile([]))
      .to.throw()
      .with.property('code', 'E_EMPTY_FLOW');
  });
});
