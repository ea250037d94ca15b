// Durations past what one Node timer can wait (2^31-1 ms, about 24.8 days): the system clock
// chains timers, and every duration a user gives is accepted up to 10 years or rejected by name.
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { Engine, River, SystemClock, type Headwaters, type RiverAttr } from '../../lib/index.js';
import { forEachStore, rejects, runToEnd, silent, sleep, startFlow, useEngines } from '../helpers/stores.js';

describe('SystemClock', () => {
  it('does not end a sleep of 2^31 ms early; an abort rejects it with the reason and leaves no listener', async () => {
    const clock = new SystemClock();
    const ctl = new AbortController();
    let settled = false;
    const slept = clock.sleep(2 ** 31, ctl.signal).finally(() => (settled = true));
    await sleep(30);
    expect(settled, 'a 2^31 ms sleep ended after 30ms').to.equal(false);
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(1);
    const reason = new Error('stop');
    ctl.abort(reason);
    expect(await rejects(slept)).to.equal(reason);
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(0);
  });

  it('ends a short sleep after its time and removes its abort listener', async () => {
    const ctl = new AbortController();
    const started = Date.now();
    await new SystemClock().sleep(15, ctl.signal);
    expect(Date.now() - started).to.be.at.least(14);
    expect(getEventListeners(ctl.signal, 'abort')).to.have.length(0);
  });
});

class Slow extends River {
  constructor(readonly attrs: RiverAttr) {
    super();
  }
  update(attr: RiverAttr): void {
    Object.assign(attr, this.attrs);
  }
  async flow(hw: Headwaters): Promise<void> {
    await sleep(20);
    hw.put('done', true);
  }
}

forEachStore((kind) => {
  describe('long durations', () => {
    const engines = useEngines(kind);

    it("lets a river with timeout '597h' (past 2^31-1 ms) succeed when flow() takes 20 ms", async () => {
      const engine = await engines.open();
      const { outcome } = await runToEnd(engine, [new Slow({ timeout: '597h' })]);
      expect(outcome.error).to.equal(undefined);
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ done: true });
    });

    it("takes durations in days ('7d', '30d') for every duration attribute", async () => {
      const engine = await engines.open();
      const attrs: RiverAttr = { timeout: '30d', retryInterval: '7d', retryMaxInterval: '30d', retryTimes: 1 };
      expect((await runToEnd(engine, [new Slow(attrs)])).outcome.status).to.equal('success');
    });

    it('rejects a duration attribute above 3650 days with E_INVALID_ATTR naming the river and the field', async () => {
      const engine = await engines.open();
      const cases: Array<[RiverAttr, string]> = [
        [{ timeout: '3651d' }, 'timeout'],
        [{ retryInterval: 3650 * 86_400_000 + 1 }, 'retryInterval'],
        [{ retryMaxInterval: '100000h' }, 'retryMaxInterval'],
      ];
      for (const [attrs, field] of cases) {
        const err = await rejects(startFlow(engine, [new Slow(attrs)]));
        expect(err.code, field).to.equal('E_INVALID_ATTR');
        expect(err.message).to.contain('river Slow').and.to.contain(field).and.to.contain('3650d');
      }
      expect(await engine.list()).to.have.length(0);
    });

    it('rejects retryBackoff above its documented cap of 1000 with E_INVALID_ATTR naming retryBackoff', async () => {
      const engine = await engines.open();
      const err = await rejects(startFlow(engine, [new Slow({ retryBackoff: 1001 })]));
      expect(err.code).to.equal('E_INVALID_ATTR');
      expect(err.message).to.contain('retryBackoff');
    });
  });
});

describe('Engine.open closeTimeout', () => {
  it('rejects a closeTimeout above 3650 days with E_INVALID_ARGUMENT naming closeTimeout, and takes days', async () => {
    const err = await rejects(Engine.open({ store: 'memory', logger: silent, closeTimeout: '3651d' }));
    expect(err.code).to.equal('E_INVALID_ARGUMENT');
    expect(err.message).to.contain('closeTimeout').and.to.contain('3650d');
    const engine = await Engine.open({ store: 'memory', logger: silent, closeTimeout: '1d' });
    await engine.close();
  });
});
