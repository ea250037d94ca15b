// The `timeout` attr: a limit on one attempt of flow() and one call of cycle().
import { expect } from 'chai';
import { Engine, ManualClock, type EngineOptions } from '../../lib/index.js';
import { never, openEngine, payloads, recordEvents, runFlow, ScriptedRiver, startFlow, until } from '../helpers/river-helpers.js';

describe('river timeout', () => {
  let engine: Engine | undefined;
  const open = async (options: EngineOptions = {}) => (engine = await openEngine(options));
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  describe('flow()', () => {
    it('fails an attempt that never settles with E_TIMEOUT, without waiting for the abandoned promise', async () => {
      const e = await open();
      const river = new ScriptedRiver({ attr: { timeout: 20 }, flow: never });
      const began = Date.now();
      const out = await runFlow(e, [river]);
      expect(Date.now() - began).to.be.below(1000);
      expect(river.flowCalls).to.have.length(1);
      expect(out.status).to.equal('fail');
      expect(out.error?.code).to.equal('E_TIMEOUT');
      expect(out.error?.river).to.equal('ScriptedRiver');
      expect(out.error?.attempts).to.equal(1);
    });

    it('does not fail the attempt before the timeout has elapsed (ManualClock)', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const river = new ScriptedRiver({ attr: { timeout: '5s' }, flow: never });
      const run = await startFlow(e, [river]);
      let ended = false;
      const result = run.result().then((out) => {
        ended = true;
        return out;
      });
      await until(() => river.flowCalls.length === 1);
      await clock.sleeping();
      await clock.advance(4999);
      expect(ended, 'the attempt timed out early').to.equal(false);
      expect(river.flowCalls[0]?.signal.aborted).to.equal(false);
      expect((await e.get(run.id))?.status).to.equal('running');
      await clock.advance(1);
      const out = await result;
      expect(out.error?.code).to.equal('E_TIMEOUT');
    });

    it('aborts ctx.signal of the attempt that timed out', async () => {
      const e = await open();
      let abortedAt: number | undefined;
      const river = new ScriptedRiver({
        attr: { timeout: 15 },
        flow: (_hw, ctx) => {
          ctx.signal.addEventListener('abort', () => (abortedAt = Date.now()));
          return never();
        },
      });
      const out = await runFlow(e, [river]);
      const signal = river.flowCalls[0]!.signal;
      expect(signal.aborted).to.equal(true);
      expect(abortedAt).to.be.a('number');
      expect(out.error?.code).to.equal('E_TIMEOUT');
      expect(signal.reason).to.be.instanceOf(Error);
    });

    it('ignores an abandoned attempt that rejects after its timeout', async () => {
      const e = await open();
      let lateRejection = false;
      const river = new ScriptedRiver({
        attr: { timeout: 10, retryTimes: 1, retryInterval: 0 },
        flow: (_hw, ctx, call) => {
          if (call > 1) return undefined;
          // like fetch(): rejects once its signal aborts, a little later
          return new Promise<void>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () =>
              setTimeout(() => {
                lateRejection = true;
                reject(new Error('aborted late'));
              }, 5),
            );
          });
        },
      });
      const out = await runFlow(e, [river]);
      await until(() => lateRejection, 1000, 'the late rejection');
      await new Promise((r) => setImmediate(r));
      expect(out.status).to.equal('success');
      expect(river.flowCalls).to.have.length(2);
    });

    it('lets an attempt that ends within the timeout succeed, its signal never aborted', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { timeout: 1000 },
        flow: async (hw) => {
          await new Promise((r) => setTimeout(r, 5));
          hw.put('ok', true);
        },
      });
      const out = await runFlow(e, [river]);
      expect(out.status).to.equal('success');
      expect(out.headwaters).to.deep.equal({ ok: true });
      expect(river.flowCalls[0]?.signal.aborted).to.equal(false);
    });

    it('retries an attempt that timed out, and succeeds when a later attempt finishes in time', async () => {
      const e = await open();
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { timeout: 20, retryTimes: 2, retryInterval: 0 },
        flow: (hw, _ctx, call) => {
          if (call === 1) return never();
          hw.put('attempt', call);
          return undefined;
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.status).to.equal('success');
      expect(out.headwaters).to.deep.equal({ attempt: 2 });
      expect(river.flowCalls[0]?.signal.aborted).to.equal(true);
      expect(river.flowCalls[1]?.signal.aborted).to.equal(false);
      const retries = payloads(events, 'river:retry');
      expect(retries).to.have.length(1);
      expect(retries[0]?.error.code).to.equal('E_TIMEOUT');
    });

    it('fails with E_TIMEOUT when the last attempt timed out', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { timeout: 10, retryTimes: 1, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          if (call === 1) throw new Error('refused');
          return never();
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.error?.code).to.equal('E_TIMEOUT');
      expect(out.error?.attempts).to.equal(2);
    });

    it('fails with E_RIVER_FAILED when an earlier attempt timed out but the last one threw', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { timeout: 10, retryTimes: 1, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          if (call === 1) return never();
          throw new Error('refused on the retry');
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.message).to.contain('refused on the retry');
    });

    it('limits each attempt on its own, not all attempts together', async () => {
      // the engine's clock moves by itself: each attempt takes 600 ms of it, three attempts 1800 ms
      const clock = new ManualClock({ auto: true });
      const e = await open({ clock });
      const river = new ScriptedRiver({
        attr: { timeout: '1s', retryTimes: 2, retryInterval: 0 },
        flow: async (_hw, _ctx, call) => {
          await clock.sleep(600);
          if (call < 3) throw new Error(`slow failure ${call}`);
        },
      });
      const began = clock.now();
      const out = await runFlow(e, [river]);
      expect(out.status).to.equal('success');
      expect(river.flowCalls).to.have.length(3);
      expect(clock.now() - began).to.be.at.least(1800);
    });
  });

  describe('cycle()', () => {
    it('fails a cycle() call that never settles with E_TIMEOUT', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { timeout: 20, cycleTimes: 5, cycleInterval: 0, retryTimes: 3, retryInterval: 0 },
        cycle: () => never(),
      });
      const out = await runFlow(e, [river]);
      expect(out.status).to.equal('fail');
      expect(out.error?.code).to.equal('E_TIMEOUT');
      // a failing poll ends the river at once: no further polls, no retry of flow()
      expect(river.cycleCalls).to.have.length(1);
      expect(river.flowCalls).to.have.length(1);
      expect(river.cycleCalls[0]?.signal.aborted).to.equal(true);
    });

    it('limits each cycle() call on its own: many polls outlast the timeout together', async () => {
      const clock = new ManualClock({ auto: true });
      const e = await open({ clock });
      const river = new ScriptedRiver({
        attr: { timeout: '1s', cycleTimes: 4, cycleInterval: 0 },
        cycle: async (_hw, _ctx, call) => {
          await clock.sleep(600);
          return call === 4;
        },
      });
      const began = clock.now();
      const out = await runFlow(e, [river]);
      expect(out.status).to.equal('success');
      expect(river.cycleCalls).to.have.length(4);
      expect(clock.now() - began).to.be.at.least(2400);
    });
  });
});
