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

describe('Headwaters text the store keeps as it is', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  // a lone UTF-16 surrogate (text cut inside a pair) is written as U+FFFD: 'order-\ud800' and
  // 'order-\udfff' would be one requestId in the store, and start() of the second return the first
  it('refuses a requestId with a lone surrogate (E_INVALID_ARGUMENT naming it and where), and takes a whole pair', () => {
    for (const [requestId, at] of [
      ['order-\ud800', 'U+D800) at index 6'],
      ['order-\udfff', 'U+DFFF) at index 6'],
      ['\udc00\ud83d\ude00', 'U+DC00) at index 0'],
      ['a\ud83d', 'U+D83D) at index 1'],
    ] as const) {
      const err = thrown(() => new Headwaters(requestId));
      expect(err.code, requestId).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('requestId').and.contain(JSON.stringify(requestId)).and.contain(at);
    }
    expect(new Headwaters('order-\ud83d\ude00').requestId).to.equal('order-😀');
  });

  it('refuses a headwaters key with a lone surrogate; values keep theirs (JSON escapes them)', () => {
    const err = thrown(() => new Headwaters().put('k\ud800', 1));
    expect(err.code).to.equal('E_INVALID_ARGUMENT');
    expect(err.message).to.contain('Headwaters.put').and.contain('"k\\ud800"').and.contain('lone surrogate');
    expect(new Headwaters().put('k', 'cut \ud800').get('k')).to.equal('cut \ud800');
  });

  it('refuses a static riverName that is no name, naming the class (it fell back to the class name)', async () => {
    const engine = await engines.open();
    for (const [riverName, why] of [
      ['', 'empty or blank'],
      ['   ', 'empty or blank'],
      [42, 'not a string'],
      [null, 'not a string'],
      ['cut\ud800', 'lone surrogate'],
    ] as const) {
      const Step = class Step extends River {
        static riverName = riverName as string;
      };
      const err = thrown(() => new Andes(engine).drawStream(new Step()));
      expect(err.code, String(riverName)).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('class Step: static riverName').and.contain(why);
    }
  });
});
