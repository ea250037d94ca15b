// The headwaters view a call of flow() or cycle() gets must forward every member of Headwaters to
// the flow's headwaters: a member it did not override would read the view's own, empty state.
import { expect } from 'chai';
import { AttemptHeadwaters } from '../../lib/engine/attempt-headwaters.js';
import { Headwaters } from '../../lib/index.js';

const members = (proto: object): string[] => Object.getOwnPropertyNames(proto).filter((k) => k !== 'constructor');

describe('AttemptHeadwaters', () => {
  it('overrides every member of Headwaters', () => {
    const missing = members(Headwaters.prototype).filter((k) => !Object.hasOwn(AttemptHeadwaters.prototype, k));
    expect(missing, 'members of Headwaters the view does not forward').to.deep.equal([]);
  });

  it('reads and writes the flow’s headwaters until its call is abandoned', () => {
    const hw = new Headwaters('r').put('a', 1);
    const gate: { abandoned: Error | undefined; describe(): string } = { abandoned: undefined, describe: () => 'river R: flow() attempt 1' };
    const view = new AttemptHeadwaters(hw, gate);
    view.put('b', 2).tmpPut('t', 'x');
    expect(hw.toJSON()).to.deep.equal({ a: 1, b: 2 });
    expect([view.get('a'), view.getNumber('b'), view.has('a'), view.keys(), view.tmpGet('t')]).to.deep.equal([1, 2, true, ['a', 'b'], 'x']);
    gate.abandoned = new Error('timed out');
    expect(() => view.put('c', 3))
      .to.throw()
      .with.property('code', 'E_CANCELLED');
    expect(() => view.del('a'))
      .to.throw()
      .with.property('code', 'E_CANCELLED');
    expect(hw.toJSON()).to.deep.equal({ a: 1, b: 2 });
  });
});
