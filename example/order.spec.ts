// Testing a production blueprint: the same JSON file, on the memory store, with the order service
// replaced by fakes registered under the river's name, and a clock that makes retry waits instant.
import { expect } from 'chai';
import fs from 'node:fs';
import { pino } from 'pino';
import { Andes, Engine, ManualClock, River, type Headwaters, type RiverAttr } from 'vastflow';
import { CreateClientRiver, RecordOutcome, outcomes } from './order/order-rivers.js';

const blueprint = JSON.parse(fs.readFileSync(new URL('./order/order-flow.json', import.meta.url), 'utf8'));

/** Stands in for CreateOrder: same name, no network; fails as often as the test says. */
class FakeCreateOrder extends River {
  static riverName = 'CreateOrder';
  static failures = 0;
  update(attr: RiverAttr) {
    attr.retryTimes = 4;
    attr.retryInterval = '1m'; // long waits cost nothing on the auto clock
  }
  async flow(hw: Headwaters) {
    if (FakeCreateOrder.failures-- > 0) throw new Error('order service down');
    hw.put('orderId', 'order-fake-1');
  }
}

describe('the order flow blueprint', () => {
  let engine: Engine;

  beforeEach(async () => {
    outcomes.length = 0;
    FakeCreateOrder.failures = 0;
    engine = await Engine.open({
      store: 'memory',
      clock: new ManualClock({ auto: true }),
      classes: [CreateClientRiver, FakeCreateOrder, RecordOutcome],
      logger: pino({ level: 'silent' }),
    });
  });

  afterEach(() => engine.close());

  it('creates the client, then the order, and records the success', async () => {
    const run = await Andes.fromJSON({ ...blueprint, requestId: 'order-test-1' }, engine).start();
    const outcome = await run.result();
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters).to.include({ orderId: 'order-fake-1' });
    expect(outcomes).to.deep.equal([{ requestId: 'order-test-1', status: 'success', detail: `order order-fake-1 for ${outcome.headwaters['clientId']}` }]);
  });

  it('retries the order through three failures without waiting for real minutes', async () => {
    FakeCreateOrder.failures = 3;
    const started = Date.now();
    const outcome = await (await Andes.fromJSON({ ...blueprint, requestId: 'order-test-2' }, engine).start()).result();
    expect(outcome.status).to.equal('success');
    expect((await engine.get(outcome.id))!.streams[1]!.attempts).to.equal(4);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('fails with the river and the reason when the order service never recovers', async () => {
    FakeCreateOrder.failures = 10;
    const outcome = await (await Andes.fromJSON({ ...blueprint, requestId: 'order-test-3' }, engine).start()).result();
    expect(outcome.status).to.equal('fail');
    expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'CreateOrder', attempts: 5 });
    expect(outcomes[0]!.detail).to.match(/^E_RIVER_FAILED in CreateOrder/);
  });
});
