// A flow parked for long (its next polls a minute away, inside a parallel river, then a retry)
// runs on from its records as it would have: each poll and retry at its due time, its counts,
// history and unsaved headwaters kept.
import { expect } from 'chai';
import { ManualClock, ParallelRiver, River, type Headwaters, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { startFlow, STORE_KINDS, useEngines } from '../helpers/stores.js';

const T0 = 1_767_225_600_000;
let clock: ManualClock;
let log: string[] = [];

/** Polls every minute; done on poll `until`. */
class MinutePoll extends River<{ name: string; until: number }> {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = '1m';
  }
  cycle(hw: Headwaters, ctx: RiverContext) {
    log.push(`${this.config!.name} ${ctx.cycle} at ${(clock.now() - T0) / 1000}s`);
    if (ctx.cycle !== this.config!.until) return false;
    hw.put(this.config!.name, ctx.cycle);
    return true;
  }
}

/** Fails its first attempt; the retry, 2 s later, succeeds. */
class Retried extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 1;
    attr.retryInterval = '2s';
  }
  flow(hw: Headwaters, ctx: RiverContext) {
    log.push(`retried ${ctx.attempt} at ${(clock.now() - T0) / 1000}s`);
    if (ctx.attempt === 1) throw new Error('not yet');
    hw.put('retried', ctx.attempt);
  }
}

/** Not durable: what it puts lives in the engine's memory until a later checkpoint. */
class Note extends River {
  flow(hw: Headwaters) {
    hw.put('note', 'kept in memory');
  }
}

describe('flows parked for long', () => {
  // on the memory store, as nested-parking.spec.ts: the times asserted are exact, and the manual
  // clock moves on after a few turns of the event loop, which LevelDB's writes may outlast; how a
  // parked flow keeps its records does not depend on the store
  describe('on the memory store', () => {
    const engines = useEngines(STORE_KINDS[0]!);
    beforeEach(() => {
      clock = new ManualClock({ startMs: T0 });
      log = [];
    });

    it('poll and retry at the due times and end as they would have, with their counts, history and headwaters', async () => {
      const engine = await engines.open({ clock });
      const run = await startFlow(engine, [
        new Note(),
        new ParallelRiver().append(new MinutePoll({ name: 'a', until: 2 })).append(new MinutePoll({ name: 'b', until: 3 })),
        new Retried(),
      ]);
      const result = run.result();
      const ended = result.then(
        () => false,
        () => false,
      );
      for (let i = 0; i < 10 && (await Promise.race([clock.sleeping().then(() => true), ended])); i++) await clock.advance('1m');
      const out = await result;
      expect(out.status).to.equal('success');
      expect(out.headwaters).to.deep.equal({ note: 'kept in memory', a: 2, b: 3, retried: 2 });
      expect(log).to.deep.equal(['a 1 at 60s', 'b 1 at 60s', 'a 2 at 120s', 'b 2 at 120s', 'b 3 at 180s', 'retried 1 at 180s', 'retried 2 at 182s']);
      const snap = await engine.get(run.id);
      const rivers = snap!.streams
        .filter((s) => s.kind === 'river' && s.name !== 'Note')
        .map((s) => [s.name, s.attempts, s.cycles, s.history.length, s.errors.length]);
      expect(rivers).to.deep.equal([
        ['MinutePoll', 1, 2, 3, 0],
        ['MinutePoll', 1, 3, 4, 0],
        ['Retried', 2, 0, 2, 1],
      ]);
    });
  });
});
