// `static input`: a zod schema the headwaters must match before flow() runs.
import { expect } from 'chai';
import { z } from 'zod';
import { Engine, Headwaters, River, type RiverAttr } from '../../lib/index.js';
import { openEngine, payloads, recordEvents, runFlow, startFlow } from '../helpers/river-helpers.js';

let flowCalls = 0;

class NeedsOrder extends River {
  static input = z.object({ orderId: z.string(), qty: z.number().int().positive() });
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = 0;
  }
  async flow(hw: Headwaters) {
    flowCalls++;
    hw.put('placed', `${hw.getString('orderId')} x${hw.getNumber('qty')}`);
  }
}

class NeedsNested extends River {
  static input = z.object({ customer: z.object({ address: z.object({ zip: z.string() }) }) });
  async flow() {
    flowCalls++;
  }
}

class SetsOrder extends River {
  async flow(hw: Headwaters) {
    hw.put('orderId', 'o-1').put('qty', 2);
  }
}

describe('river input schema', () => {
  let engine: Engine;
  beforeEach(async () => {
    flowCalls = 0;
    engine = await openEngine();
  });
  afterEach(() => engine.close());

  it('runs flow() when the headwaters match the schema', async () => {
    const out = await runFlow(engine, [new NeedsOrder()], new Headwaters().put('orderId', 'o-42').put('qty', 3));
    expect(out.status).to.equal('success');
    expect(flowCalls).to.equal(1);
    expect(out.headwaters['placed']).to.equal('o-42 x3');
  });

  it('fails at once with E_INVALID_INPUT naming the missing key, without calling flow()', async () => {
    const out = await runFlow(engine, [new NeedsOrder()], new Headwaters().put('qty', 3));
    expect(flowCalls).to.equal(0);
    expect(out.status).to.equal('fail');
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(out.error?.river).to.equal('NeedsOrder');
    expect(out.error?.message).to.contain('orderId');
  });

  it('does not retry an input mismatch, even with retryTimes set', async () => {
    const events = recordEvents(engine);
    const run = await startFlow(engine, [new NeedsOrder()], new Headwaters().put('orderId', 'o-1').put('qty', 'three'));
    const out = await run.result();
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(flowCalls).to.equal(0);
    expect(payloads(events, 'river:retry')).to.have.length(0);
    const snap = await engine.get(run.id);
    expect(snap?.streams[0]?.state).to.equal('fail');
  });

  it('names the key of a value of the wrong type', async () => {
    const out = await runFlow(engine, [new NeedsOrder()], new Headwaters().put('orderId', 'o-1').put('qty', 'three'));
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(out.error?.message).to.contain('qty');
    expect(out.error?.message).not.to.contain('orderId');
  });

  it('names every mismatching key when several mismatch', async () => {
    const out = await runFlow(engine, [new NeedsOrder()], new Headwaters().put('qty', -1));
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(out.error?.message).to.contain('orderId');
    expect(out.error?.message).to.contain('qty');
  });

  it('gives the full issue path of a nested mismatch', async () => {
    const out = await runFlow(engine, [new NeedsNested()], new Headwaters().put('customer', { address: { zip: 1234 } }));
    expect(flowCalls).to.equal(0);
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(out.error?.message).to.match(/customer\W+address\W+zip/);
  });

  it('checks the headwaters as they are when the river starts, after the rivers before it', async () => {
    const out = await runFlow(engine, [new SetsOrder(), new NeedsOrder()]);
    expect(out.status).to.equal('success');
    expect(flowCalls).to.equal(1);
    expect(out.headwaters['placed']).to.equal('o-1 x2');
  });

  it('fails the flow before the rivers after it run', async () => {
    let laterRan = false;
    class Later extends River {
      async flow() {
        laterRan = true;
      }
    }
    const out = await runFlow(engine, [new NeedsOrder(), new Later()]);
    expect(out.status).to.equal('fail');
    expect(out.error?.code).to.equal('E_INVALID_INPUT');
    expect(laterRan).to.equal(false);
  });
});
