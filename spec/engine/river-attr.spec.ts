// RiverAttr validation: invalid attrs make start() reject with E_INVALID_ATTR; durations parse.
import { expect } from 'chai';
import { Andes, Basin, Engine, Fork, ManualClock, ParallelRiver, River, type RiverAttr } from '../../lib/index.js';
import { openEngine, payloads, recordEvents, rejects, runFlow, ScriptedRiver } from '../helpers/river-helpers.js';

let ran = 0;

/** A river whose attrs are given per instance (anything, also invalid), under a stable name. */
class Billing extends River {
  static riverName = 'ChargeCard';
  readonly attrs: Record<string, unknown>;
  constructor(attrs: Record<string, unknown>) {
    super();
    this.attrs = attrs;
  }
  update(attr: RiverAttr) {
    Object.assign(attr, this.attrs);
  }
  async flow() {
    ran++;
  }
}

describe('river attrs', () => {
  let engine: Engine | undefined;
  beforeEach(() => {
    ran = 0;
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  describe('invalid attrs reject start() with E_INVALID_ATTR naming the river and the field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['a negative retryTimes', { retryTimes: -1 }, 'retryTimes'],
      ['a non-integer retryTimes', { retryTimes: 1.5 }, 'retryTimes'],
      ['a retryTimes given as a string', { retryTimes: '3' }, 'retryTimes'],
      ['an unknown duration string', { retryInterval: 'abc' }, 'retryInterval'],
      ['a duration with an unknown unit', { cycleInterval: '2w' }, 'cycleInterval'],
      ['a negative duration', { retryMaxInterval: -5 }, 'retryMaxInterval'],
      ['an invalid timeout', { timeout: 'soon' }, 'timeout'],
      ['retryBackoff below 1', { retryBackoff: 0.5 }, 'retryBackoff'],
      ['retryJitter above 1', { retryJitter: 2 }, 'retryJitter'],
      ['a negative retryJitter', { retryJitter: -0.1 }, 'retryJitter'],
      ['an unknown field (a typo)', { retrytimes: 3 }, 'retrytimes'],
      ['a non-integer cycleTimes', { cycleTimes: 2.5 }, 'cycleTimes'],
      ['a negative cycleTimes', { cycleTimes: -1 }, 'cycleTimes'],
      ['a non-boolean durable', { durable: 'yes' }, 'durable'],
    ];
    for (const [what, attrs, field] of cases) {
      it(`rejects ${what} (${JSON.stringify(attrs)})`, async () => {
        engine = await openEngine();
        const err = await rejects(new Andes(engine).drawStream(new Billing(attrs)).start());
        expect(err.code).to.equal('E_INVALID_ATTR');
        expect(err.message).to.contain('ChargeCard');
        expect(err.message).to.contain(field);
        expect(ran).to.equal(0);
      });
    }

    it('leaves nothing in the store after a rejected start', async () => {
      engine = await openEngine();
      const events = recordEvents(engine);
      const good = new ScriptedRiver();
      const err = await rejects(new Andes(engine).drawStream(good, new Billing({ retryTimes: -1 })).start());
      expect(err.code).to.equal('E_INVALID_ATTR');
      expect(await engine.list()).to.deep.equal([]);
      expect(good.flowCalls, 'no river of the rejected flow runs').to.have.length(0);
      expect(events).to.deep.equal([]);
    });

    it('rejects an invalid attr of a river nested in a parallel river or a basin', async () => {
      engine = await openEngine();
      const nested = new ParallelRiver().append(new ScriptedRiver()).append(new Basin('blue').drawStream(new Billing({ retryBackoff: 0 })));
      const err = await rejects(new Andes(engine).drawStream(nested).start());
      expect(err.code).to.equal('E_INVALID_ATTR');
      expect(err.message).to.contain('ChargeCard');
      expect(err.message).to.contain('retryBackoff');
      expect(await engine.list()).to.deep.equal([]);
    });

    it('rejects an invalid attr in a fork branch that would not be chosen', async () => {
      engine = await openEngine();
      class AlwaysA extends Fork {
        choose() {
          return 'a';
        }
      }
      const fork = new AlwaysA().branch('a', new ScriptedRiver()).branch('b', new Billing({ cycleTimes: -3 }));
      const err = await rejects(new Andes(engine).drawStream(fork).start());
      expect(err.code).to.equal('E_INVALID_ATTR');
      expect(err.message).to.contain('ChargeCard');
      expect(err.message).to.contain('cycleTimes');
      expect(await engine.list()).to.deep.equal([]);
    });

    it('still starts valid flows after rejecting one', async () => {
      engine = await openEngine();
      await rejects(new Andes(engine).drawStream(new Billing({ retryJitter: 2 })).start());
      const out = await runFlow(engine, [new Billing({ retryJitter: 1 })]);
      expect(out.status).to.equal('success');
      expect(ran).to.equal(1);
      expect(await engine.list()).to.have.length(1);
    });
  });

  describe('valid attrs', () => {
    it('accepts the boundary values: retryTimes 0, retryBackoff 1, retryJitter 0 and 1, cycleTimes 0', async () => {
      engine = await openEngine();
      for (const attrs of [{ retryTimes: 0, retryBackoff: 1, retryJitter: 0, cycleTimes: 0 }, { retryJitter: 1 }]) {
        const out = await runFlow(engine, [new Billing(attrs)]);
        expect(out.status).to.equal('success');
      }
      expect(ran).to.equal(2);
    });

    const durations: Array<[number | string, number]> = [
      [250, 250],
      ['500ms', 500],
      ['2s', 2000],
      ['5m', 300_000],
      ['1h', 3_600_000],
    ];
    for (const [duration, ms] of durations) {
      it(`reads the duration ${JSON.stringify(duration)} as ${ms} ms (retry wait and cycle interval)`, async () => {
        const clock = new ManualClock({ auto: true });
        engine = await openEngine({ clock });
        const events = recordEvents(engine);
        const river = new ScriptedRiver({
          attr: { retryTimes: 1, retryInterval: duration, retryMaxInterval: duration, cycleTimes: 1, cycleInterval: duration, timeout: duration },
          flow: (_hw, _ctx, call) => {
            if (call === 1) throw new Error('retry once');
          },
        });
        const began = clock.now();
        const out = await runFlow(engine, [river]);
        expect(out.status).to.equal('success');
        expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([ms]);
        // one retry wait and one cycle interval passed on the engine's clock
        expect(clock.now() - began).to.equal(2 * ms);
      });
    }
  });
});
