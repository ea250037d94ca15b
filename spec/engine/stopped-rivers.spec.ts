// A river stopped because another branch failed is not a failure of its own: it is recorded with
// E_CANCELLED and the river that failed as its cause; the flow's error stays the root failure. And
// each river's history lists its calls with their times.
import { expect } from 'chai';
import { ParallelRiver, River, toMermaid, type Headwaters, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { forEachStore, runToEnd, sleep, startFlow, until, useEngines } from '../helpers/stores.js';

class Fails extends River {
  async flow() {
    await sleep(15);
    throw new Error('card declined');
  }
}

/** Long work that gives up when its signal aborts, as well-behaved rivers do. */
class Cooperative extends River {
  flow(_hw: Headwaters, ctx: RiverContext) {
    return new Promise<void>((_, reject) => {
      const timer = setTimeout(() => reject(new Error('should have been aborted')), 2000);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(ctx.signal.reason as Error)), { once: true });
    });
  }
}

/** Waits for a retry when the sibling fails. */
class Retrying extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = '1h';
  }
  flow(): void {
    throw new Error('not yet');
  }
}

/** Runs until the test lets it go. */
let letGo: (() => void) | undefined;
class Held extends River {
  flow(): Promise<void> {
    return new Promise<void>((resolve) => (letGo = resolve));
  }
}

class Polls extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 3;
    attr.cycleInterval = 5;
  }
  flow(hw: Headwaters) {
    hw.put('polled', true);
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    return ctx.cycle === 3;
  }
}

forEachStore((kind) => {
  describe('rivers stopped by another river’s failure', () => {
    const engines = useEngines(kind);

    it('records an aborted sibling as stopped (E_CANCELLED, cause: the river that failed), distinct from the failure', async () => {
      const engine = await engines.open();
      const pr = new ParallelRiver().append(new Fails()).append(new Cooperative()).append(new Retrying());
      const { id, outcome } = await runToEnd(engine, [pr]);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Fails' });
      const snap = await engine.get(id);
      const [, failed, aborted, waiting] = snap!.streams;
      expect(failed!.error).to.include({ code: 'E_RIVER_FAILED', river: 'Fails' });
      for (const s of [aborted!, waiting!]) {
        expect(s.state).to.equal('fail');
        expect(s.error, s.name).to.deep.include({ code: 'E_CANCELLED', river: s.name, cause: { river: 'Fails' } });
      }
      // the aborted attempt's own error stays in its history
      expect(aborted!.history[0]!.error).to.include({ code: 'E_RIVER_FAILED' });
      const diagram = toMermaid(snap!);
      expect(diagram).to.match(/class s0_1_0 stopped/);
      expect(diagram).to.match(/class s0_2_0 stopped/);
      expect(diagram).to.match(/class s0_0_0 fail/);
    });

    it("lists each call of flow() and cycle() in the river's history, with start and end times", async () => {
      const engine = await engines.open();
      const { id } = await runToEnd(engine, [new Polls()]);
      const river = (await engine.get(id))!.streams[0]!;
      expect(river.history.map((h) => [h.phase, h.attempt])).to.deep.equal([
        ['flow', 1],
        ['cycle', 1],
        ['cycle', 2],
        ['cycle', 3],
      ]);
      for (const h of river.history) {
        expect(h.endedAt).to.be.a('number');
        expect(h.endedAt! >= h.startedAt).to.equal(true);
      }
      expect(river.history[1]!.startedAt - river.history[0]!.endedAt!, 'the poll waits its interval').to.be.at.least(4);
    });

    it('lists the attempt that is running, without an end, while flow() runs', async () => {
      const engine = await engines.open();
      const run = await startFlow(engine, [new Held()]);
      await until(async () => (await engine.get(run.id))!.streams[0]!.history.length > 0, 2000, 'the running attempt in the history');
      const running = (await engine.get(run.id))!.streams[0]!;
      expect(running.state).to.equal('running');
      expect(running.history).to.have.length(1);
      expect(running.history[0]).to.include({ phase: 'flow', attempt: 1 }).and.not.have.property('endedAt');
      letGo!();
      expect((await run.result()).status).to.equal('success');
      const [ended] = (await engine.get(run.id))!.streams[0]!.history;
      expect(ended!.endedAt).to.be.a('number');
      expect((await engine.get(run.id))!.streams[0]!.history).to.have.length(1);
    });
  });
});
