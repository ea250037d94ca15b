// Calls the engine gives up on: an attempt past its timeout, a hung river when the flow is
// cancelled or the engine closes. Once abandoned, a call can no longer change the flow, and each
// call has a signal of its own that is released when the call ends.
import { expect } from 'chai';
import { River, type Headwaters, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { forEachStore, RecordingAtlantic, runToEnd, sleep, startFlow, until, useEngines, within } from '../helpers/stores.js';

let late: Array<{ attempt: number; error?: string }> = [];

/** Attempt 1 overruns its timeout and writes late; attempt 2 wins. */
class Overruns extends River {
  update(attr: RiverAttr) {
    attr.timeout = 40;
    attr.retryTimes = 1;
    attr.retryInterval = 1;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    if (ctx.attempt === 1) {
      await sleep(120);
      try {
        hw.put('winner', 'stale-1');
        late.push({ attempt: 1 });
      } catch (err) {
        late.push({ attempt: 1, error: (err as { code?: string }).code });
      }
      return;
    }
    hw.put('winner', `attempt-${ctx.attempt}`);
  }
}

class ReadsWinner extends River {
  flow(hw: Headwaters) {
    hw.put('seen', hw.getString('winner'));
  }
}

/** Never settles, and ignores its signal. */
class Hangs extends River {
  static started = 0;
  flow(): Promise<void> {
    Hangs.started++;
    return new Promise(() => {});
  }
}

/** Polls with a listener on ctx.signal each time, as the docs show. */
class ListensEachPoll extends River {
  static signals: AbortSignal[] = [];
  update(attr: RiverAttr) {
    attr.cycleTimes = 15;
    attr.cycleInterval = 1;
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    ListensEachPoll.signals.push(ctx.signal);
    ctx.signal.addEventListener('abort', () => {});
    return ctx.cycle === 15;
  }
}

forEachStore((kind) => {
  describe('calls the engine abandons', () => {
    const engines = useEngines(kind);
    let warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);

    beforeEach(() => {
      late = [];
      warnings = [];
      Hangs.started = 0;
      ListensEachPoll.signals = [];
      process.on('warning', onWarning);
    });
    afterEach(() => {
      process.off('warning', onWarning);
    });

    it('refuses the writes of an attempt abandoned at its timeout: the next river and the outcome see the winner', async () => {
      const engine = await engines.open();
      const { id, outcome } = await runToEnd(engine, [new Overruns(), new ReadsWinner()]);
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ winner: 'attempt-2', seen: 'attempt-2' });
      await until(() => late.length === 1, 1000, 'the late write of attempt 1');
      expect(late[0], 'the abandoned attempt is told its write has no effect').to.deep.equal({ attempt: 1, error: 'E_CANCELLED' });
      const snap = await engine.get(id);
      expect(snap!.headwaters).to.deep.equal({ winner: 'attempt-2', seen: 'attempt-2' });
    });

    it('cancels a river that never settles: after the grace the flow ends cancelled and Atlantic.fail runs', async () => {
      const engine = await engines.open({ closeTimeout: 50 });
      const atlantic = new RecordingAtlantic();
      const run = await startFlow(engine, [new Hangs()], undefined, atlantic);
      await until(() => Hangs.started === 1);
      await within(run.cancel('stuck'), 2000, 'cancel() of a hung river');
      const outcome = await run.result();
      expect(outcome.status).to.equal('cancelled');
      expect(atlantic.calls).to.deep.equal(['fail']);
      expect(atlantic.errors[0]!.code).to.equal('E_CANCELLED');
      const snap = await engine.get(run.id);
      expect(snap!.streams[0]).to.include({ state: 'fail' });
      expect(snap!.streams[0]!.error).to.include({ code: 'E_CANCELLED' });
    });

    it('close() never waits longer than closeTimeout for a hung river', async () => {
      const engine = await engines.open({ closeTimeout: 60 });
      await startFlow(engine, [new Hangs()]);
      await until(() => Hangs.started === 1);
      const t0 = Date.now();
      await within(engine.close(), 2000, 'close() with a hung river');
      expect(Date.now() - t0).to.be.below(1000);
    });

    it('gives each poll its own signal, released when the poll ends: no listener piles up', async () => {
      const engine = await engines.open();
      const { outcome } = await runToEnd(engine, [new ListensEachPoll()]);
      expect(outcome.status).to.equal('success');
      expect(ListensEachPoll.signals).to.have.length(15);
      expect(new Set(ListensEachPoll.signals).size, 'one signal per poll').to.equal(15);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
    });
  });
});
