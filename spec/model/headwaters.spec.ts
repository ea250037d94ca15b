// Headwaters' requestId is the flow's idempotency key: fixed when the Headwaters is made.
import { expect } from 'chai';
import { Andes, Headwaters, River } from '../../lib/index.js';
import { STORE_KINDS, thrown, useEngines } from '../helpers/stores.js';

class R extends River {
  static riverName = 'HwR';
}

describe('Headwaters requestId', () => {
  const engines = useEngines(STORE_KINDS[0]!);

  it('cannot be assigned: the assignment throws (strict mode) and the requestId stays', () => {
    const hw = new Headwaters('order-42');
    const err = thrown(() => {
      (hw as { requestId: string }).requestId = 'hijacked';
    });
    expect(err).to.be.instanceOf(TypeError);
    expect(hw.requestId).to.equal('order-42');
  });

  it('is not an own writable property of the instance', () => {
    const hw = new Headwaters('order-42');
    expect(Object.getOwnPropertyDescriptor(hw, 'requestId')).to.equal(undefined);
    expect(Reflect.set(hw, 'requestId', 'hijacked')).to.equal(false);
    expect(hw.requestId).to.equal('order-42');
  });

  it('reads the given requestId, or a fresh one when none is given', () => {
    expect(new Headwaters('order-42').requestId).to.equal('order-42');
    const a = new Headwaters().requestId;
    const b = new Headwaters().requestId;
    expect(a).to.be.a('string').and.not.equal('');
    expect(a).to.not.equal(b);
  });

  it('is the flow requestId, in the run, the blueprint and the outcome', async () => {
    const engine = await engines.open();
    const hw = new Headwaters('hw-req');
    const andes = new Andes(engine).drawHeadwaters(hw).drawStream(new R());
    const run = await andes.start();
    expect(run.requestId).to.equal('hw-req');
    expect(andes.toJSON().requestId).to.equal('hw-req');
    expect((await run.result()).requestId).to.equal('hw-req');
  });
});
