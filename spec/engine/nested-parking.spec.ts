// Rivers that wait inside parallel branches, basins and forks: the flow parks as a whole once
// every branch waits, and runs again from its records when the earliest wait is due. What a user
// sees must not change: each poll and retry at its own due time, a basin's unsaved writes kept.
import { expect } from 'chai';
import { Basin, Fork, ManualClock, ParallelRiver, River, type Headwaters, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { forEachStore, startFlow, STORE_KINDS, until, useEngines } from '../helpers/stores.js';

let log: string[] = [];
let clock: ManualClock;

class Poll extends River<{ name: string; every: number; until: number }> {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = this.config!.every;
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    log.push(`${this.config!.name} ${ctx.cycle} at ${clock.now() - T0}`);
    return ctx.cycle === this.config!.until;
  }
}

class Flaky extends River<{ name: string }> {
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.retryInterval = 40;
  }
  flow(hw: Headwaters, ctx: RiverContext) {
    log.push(`${this.config!.name} attempt ${ctx.attempt} at ${clock.now() - T0}`);
    if (ctx.attempt < 3) throw new Error('not yet');
    hw.put(this.config!.name, ctx.attempt);
  }
}

/** Not durable: what it puts lives only in memory until the basin ends. */
class Notes extends River {
  flow(hw: Headwaters) {
    hw.put('note', 'kept across the park');
  }
}

class ReadsNote extends River {
  flow(hw: Headwaters) {
    hw.put('seen', hw.getString('note'));
  }
}

class Pick extends Fork {
  choose() {
    return 'slow';
  }
}

const T0 = 1_767_225_600_000;

// On the memory store: the times asserted are exact, and the manual clock moves on after a few
// turns of the event loop, which LevelDB's writes (on its own threads) may outlast. Where the waits
// live does not depend on the store: the crash specs run these shapes on LevelDB.
describe('rivers that wait inside parallel rivers, basins and forks', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  beforeEach(() => {
    log = [];
    // the clock moves only when a test moves it, so each branch's work runs before time goes on
    clock = new ManualClock({ startMs: T0 });
  });

  it('polls each branch at its own due times, the flow parked in between', async () => {
    const engine = await engines.open({ clock });
    const pr = new ParallelRiver().append(new Poll({ name: 'a', every: 10, until: 3 })).append(new Poll({ name: 'b', every: 25, until: 2 }));
    const run = await startFlow(engine, [pr]);
    await clock.sleeping();
    await clock.advance(60);
    expect((await run.result()).status).to.equal('success');
    expect(log).to.deep.equal(['a 1 at 10', 'a 2 at 20', 'b 1 at 25', 'a 3 at 30', 'b 2 at 50']);
  });

  it('retries inside a fork in a basin in a parallel branch at the recorded times, and keeps the basin’s unsaved writes', async () => {
    const engine = await engines.open({ clock });
    const basin = new Basin('deep').drawStream(
      new Notes(),
      new Pick().branch('slow', new Flaky({ name: 'deep' })).branch('fast', new Notes()),
      new ReadsNote(),
    );
    const pr = new ParallelRiver().append(basin).append(new Poll({ name: 'side', every: 30, until: 3 }));
    const run = await startFlow(engine, [pr]);
    await until(() => log.length === 1, 1000, 'the first attempt');
    await clock.advance(100);
    const outcome = await run.result();
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters).to.deep.include({ deep: 3, note: 'kept across the park', seen: 'kept across the park' });
    expect(log).to.deep.equal(['deep attempt 1 at 0', 'side 1 at 30', 'deep attempt 2 at 40', 'side 2 at 60', 'deep attempt 3 at 80', 'side 3 at 90']);
  });
});

class Retrying extends River {
  static calls = 0;
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = '1h';
  }
  flow(): void {
    Retrying.calls++;
    throw new Error('not yet');
  }
}

forEachStore((kind) => {
  describe('a flow cancelled while parked inside a parallel river', () => {
    const engines = useEngines(kind);
    beforeEach(() => (Retrying.calls = 0));

    it('ends its parked rivers stopped, with their river:end, and records the parallel river failed', async () => {
      const engine = await engines.open();
      const ends: Array<{ streamId: string; code?: string }> = [];
      engine.on('river:end', (e) => ends.push({ streamId: e.streamId, code: e.error?.code }));
      const run = await startFlow(engine, [new ParallelRiver().append(new Retrying()).append(new Retrying())]);
      await until(async () => (await engine.get(run.id))!.streams.filter((s) => s.dueAt !== undefined).length === 2, 2000, 'both branches waiting');
      await run.cancel('no longer needed');
      const snap = await engine.get(run.id);
      expect(snap!.status).to.equal('cancelled');
      expect(snap!.streams.map((s) => [s.id, s.state, s.error?.code])).to.deep.equal([
        ['0', 'fail', undefined],
        ['0.0.0', 'fail', 'E_CANCELLED'],
        ['0.1.0', 'fail', 'E_CANCELLED'],
      ]);
      expect(ends.sort((a, b) => a.streamId.localeCompare(b.streamId))).to.deep.equal([
        { streamId: '0.0.0', code: 'E_CANCELLED' },
        { streamId: '0.1.0', code: 'E_CANCELLED' },
      ]);
      expect(Retrying.calls, 'no attempt after the cancel').to.equal(2);
    });
  });
});
