// Retries of flow(): how many, how long between them, and which errors are not retried.
import { expect } from 'chai';
import { Engine, FatalError, ManualClock, type EngineOptions, type FlowRun } from '../../lib/index.js';
import { openEngine, payloads, recordEvents, runFlow, ScriptedRiver, startFlow, until, type Script } from '../helpers/river-helpers.js';

describe('river retries', () => {
  let engine: Engine | undefined;
  const open = async (options: EngineOptions = {}) => (engine = await openEngine(options));
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  describe('retryTimes', () => {
    it('calls flow() retryTimes + 1 times, then fails with E_RIVER_FAILED, the attempt count and the last error', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 3, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          throw new Error(`boom #${call}`);
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(4);
      expect(out.status).to.equal('fail');
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(4);
      expect(out.error?.river).to.equal('ScriptedRiver');
      expect(out.error?.message).to.contain('boom #4');
      expect(out.error?.message).not.to.contain('boom #3');
    });

    it('makes a single attempt by default (retryTimes 0)', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        flow: () => {
          throw new Error('once');
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(1);
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(1);
      expect(out.error?.message).to.contain('once');
    });

    it('records every attempt and its error in the flow snapshot', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 2, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          throw new Error(`bad ${call}`);
        },
      });
      const run = await startFlow(e, [river]);
      await run.result();
      const snap = await e.get(run.id);
      expect(snap?.status).to.equal('fail');
      expect(snap?.streams[0]?.state).to.equal('fail');
      expect(snap?.streams[0]?.attempts).to.equal(3);
      expect(snap?.streams[0]?.errors.map((x) => x.message)).to.have.length(3);
      expect(snap?.streams[0]?.errors[2]?.message).to.contain('bad 3');
    });

    it('succeeds when a later attempt succeeds, and keeps only that attempt’s outcome', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 5, retryInterval: 0 },
        flow: (hw, _ctx, call) => {
          if (call < 3) throw new Error(`not yet ${call}`);
          hw.put('doneOn', call);
        },
      });
      const run = await startFlow(e, [river]);
      const out = await run.result();
      expect(river.flowCalls).to.have.length(3);
      expect(out.status).to.equal('success');
      expect(out.error).to.equal(undefined);
      expect(out.headwaters).to.deep.equal({ doneOn: 3 });
      const snap = await e.get(run.id);
      expect(snap?.streams[0]?.state).to.equal('success');
      expect(snap?.streams[0]?.attempts).to.equal(3);
    });

    it('runs the next river only after the retried river has succeeded', async () => {
      const e = await open();
      const order: string[] = [];
      const first = new ScriptedRiver({
        attr: { retryTimes: 1, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          order.push(`first ${call}`);
          if (call === 1) throw new Error('flaky');
        },
      });
      const second = new ScriptedRiver({ flow: () => void order.push('second') });
      const out = await runFlow(e, [first, second]);
      expect(out.status).to.equal('success');
      expect(order).to.deep.equal(['first 1', 'first 2', 'second']);
    });
  });

  describe('backoff timing (ManualClock)', () => {
    /**
     * Drives a river that always fails through its retries on a manual clock. For each wait it
     * checks that the next attempt does not come a millisecond early, and does come on time.
     */
    async function driveWaits(clock: ManualClock, river: ScriptedRiver, waits: number[], run: FlowRun): Promise<void> {
      for (const [i, wait] of waits.entries()) {
        const calls = i + 1;
        await until(() => river.flowCalls.length === calls, 1000, `attempt ${calls}`);
        await clock.sleeping();
        await clock.advance(wait - 1);
        expect(river.flowCalls, `attempt ${calls + 1} came before its wait of ${wait}ms elapsed`).to.have.length(calls);
        await clock.advance(1);
        await until(() => river.flowCalls.length === calls + 1, 1000, `attempt ${calls + 1} once ${wait}ms elapsed`);
      }
      await run.result();
    }

    it('waits retryInterval × backoff^(n-1) before attempt n+1, capped by retryMaxInterval', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { retryTimes: 4, retryInterval: '1s', retryBackoff: 2, retryMaxInterval: '5s' },
        flow: () => {
          throw new Error('down');
        },
      });
      const run = await startFlow(e, [river]);
      await driveWaits(clock, river, [1000, 2000, 4000, 5000], run);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([1000, 2000, 4000, 5000]);
      const out = await run.result();
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(5);
    });

    it('caps even the first wait when retryMaxInterval is below retryInterval', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { retryTimes: 2, retryInterval: '10s', retryBackoff: 3, retryMaxInterval: '2s' },
        flow: () => {
          throw new Error('down');
        },
      });
      const run = await startFlow(e, [river]);
      await driveWaits(clock, river, [2000, 2000], run);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([2000, 2000]);
    });

    it('keeps the wait constant with the default backoff of 1', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { retryTimes: 3, retryInterval: 300 },
        flow: () => {
          throw new Error('down');
        },
      });
      const run = await startFlow(e, [river]);
      await driveWaits(clock, river, [300, 300, 300], run);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([300, 300, 300]);
    });

    it('waits the default retryInterval of 1s when none is set', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { retryTimes: 1 },
        flow: (_hw, _ctx, call) => {
          if (call === 1) throw new Error('first fails');
        },
      });
      const run = await startFlow(e, [river]);
      await driveWaits(clock, river, [1000], run);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([1000]);
      expect((await run.result()).status).to.equal('success');
    });

    it('does not retry before the wait when the wait is long (the attempt is parked, not lost)', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const river = new ScriptedRiver({
        attr: { retryTimes: 1, retryInterval: '1h' },
        flow: (_hw, _ctx, call) => {
          if (call === 1) throw new Error('later');
        },
      });
      const run = await startFlow(e, [river]);
      await clock.sleeping();
      await clock.advance('59m');
      expect(river.flowCalls).to.have.length(1);
      await until(async () => (await e.get(run.id))?.streams[0]?.dueAt !== undefined, 1000, 'the retry wait in the store');
      const snap = await e.get(run.id);
      expect(snap?.status).to.equal('running');
      expect(snap?.streams[0]?.dueAt).to.equal(clock.now() + 60_000);
      await clock.advance('1m');
      expect((await run.result()).status).to.equal('success');
      expect(river.flowCalls).to.have.length(2);
    });
  });

  describe('jitter', () => {
    const jittery = (): Script => ({
      attr: { retryTimes: 2, retryInterval: 1000, retryBackoff: 2, retryJitter: 0.5 },
      flow: () => {
        throw new Error('down');
      },
    });

    it('with jitter 0.5 and random() = 0.5 waits 75% of each base wait', async () => {
      const clock = new ManualClock();
      const e = await open({ clock, random: () => 0.5 });
      const events = recordEvents(e);
      const river = new ScriptedRiver(jittery());
      const run = await startFlow(e, [river]);
      // base waits 1000 and 2000
      for (const [i, wait] of [750, 1500].entries()) {
        await until(() => river.flowCalls.length === i + 1);
        await clock.sleeping();
        await clock.advance(wait - 1);
        expect(river.flowCalls).to.have.length(i + 1);
        await clock.advance(1);
        await until(() => river.flowCalls.length === i + 2, 1000, `attempt ${i + 2}`);
      }
      await run.result();
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([750, 1500]);
    });

    it('draws the jitter from the injected random source (random() = 0 ⇒ the wait shrinks by the whole jitter fraction)', async () => {
      const e = await open({ clock: new ManualClock({ auto: true }), random: () => 0 });
      const events = recordEvents(e);
      await runFlow(e, [new ScriptedRiver(jittery())]);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([500, 1000]);
    });

    it('leaves the wait alone when retryJitter is 0, whatever random() returns', async () => {
      const e = await open({ clock: new ManualClock({ auto: true }), random: () => 0 });
      const events = recordEvents(e);
      await runFlow(e, [new ScriptedRiver({ ...jittery(), attr: { retryTimes: 2, retryInterval: 1000, retryBackoff: 2 } })]);
      expect(payloads(events, 'river:retry').map((p) => p.delayMs)).to.deep.equal([1000, 2000]);
    });
  });

  describe('errors that end the retries', () => {
    it('never retries a FatalError: one call, E_RIVER_FAILED, its message', async () => {
      const e = await open();
      const events = recordEvents(e);
      const river = new ScriptedRiver({
        attr: { retryTimes: 5, retryInterval: 0 },
        flow: () => {
          throw new FatalError('no such order');
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(1);
      expect(payloads(events, 'river:retry')).to.have.length(0);
      expect(out.status).to.equal('fail');
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(1);
      expect(out.error?.message).to.contain('no such order');
    });

    it('never retries a subclass of FatalError', async () => {
      class NotFound extends FatalError {}
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 3, retryInterval: 0 },
        flow: () => {
          throw new NotFound('order 7 not found');
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(1);
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.message).to.contain('order 7 not found');
    });

    it('stops retrying at a FatalError thrown by a later attempt, with retries left', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 5, retryInterval: 0 },
        flow: (_hw, _ctx, call) => {
          if (call === 1) throw new Error('transient');
          throw new FatalError('permanent');
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(2);
      expect(out.error?.message).to.contain('permanent');
    });

    it('handles a thrown string: it is retried and its text is the failure message', async () => {
      const e = await open();
      const river = new ScriptedRiver({
        attr: { retryTimes: 1, retryInterval: 0 },
        flow: () => {
          throw 'plain string failure';
        },
      });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.status).to.equal('fail');
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.attempts).to.equal(2);
      expect(out.error?.message).to.contain('plain string failure');
    });

    it('handles other non-Error throws (a plain object, undefined) as ordinary failures', async () => {
      const e = await open();
      const objectThrower = new ScriptedRiver({
        flow: () => {
          throw { reason: 'quota' };
        },
      });
      const out1 = await runFlow(e, [objectThrower]);
      expect(out1.status).to.equal('fail');
      expect(out1.error?.code).to.equal('E_RIVER_FAILED');
      expect(out1.error?.message).to.be.a('string').and.contain('quota');

      const undefinedThrower = new ScriptedRiver({
        flow: () => {
          throw undefined;
        },
      });
      const out2 = await runFlow(e, [undefinedThrower]);
      expect(out2.status).to.equal('fail');
      expect(out2.error?.code).to.equal('E_RIVER_FAILED');
      expect(out2.error?.message).to.be.a('string');
    });

    it('fails a flow() that throws synchronously the same way as one that rejects', async () => {
      const e = await open();
      class SyncThrower extends ScriptedRiver {
        override flow(): Promise<void> {
          this.flowCalls.push({} as never);
          throw new Error('sync boom');
        }
      }
      const river = new SyncThrower({ attr: { retryTimes: 1, retryInterval: 0 } });
      const out = await runFlow(e, [river]);
      expect(river.flowCalls).to.have.length(2);
      expect(out.error?.code).to.equal('E_RIVER_FAILED');
      expect(out.error?.message).to.contain('sync boom');
    });
  });
});
