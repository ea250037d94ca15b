// An engine whose flow was taken over (it missed its lease: paused, cut off) announces nothing of
// what it can no longer write: its attempt's outcome is dropped, and so is the event that would
// report it. The takeover is made without a pause: the second engine's clock runs an hour ahead,
// so it finds the first engine's lease run out while that engine goes on in compensate().
import { expect } from 'chai';
import { Andes, Atlantic, Headwaters, River, SystemClock, type Engine, type EngineEvents, type RiverContext } from '../../lib/index.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { until, useEngines } from '../helpers/stores.js';

const HOUR = 3_600_000;

/** The system clock, `offset` ms ahead. */
class AheadClock extends SystemClock {
  constructor(readonly offset: number) {
    super();
  }
  override now(): number {
    return super.now() + this.offset;
  }
}

let openGate: () => void = () => undefined;

class Books extends River {
  static riverName = 'Fenced.Books';
  static compensations = 0;
  flow(hw: Headwaters) {
    hw.put('booked', true);
  }
  async compensate(_hw: Headwaters, _ctx: RiverContext) {
    Books.compensations++;
    // the first call (in the engine that loses the flow) waits until the test lets it go on
    if (Books.compensations === 1) await new Promise<void>((resolve) => (openGate = resolve));
  }
}

class Breaks extends River {
  static riverName = 'Fenced.Breaks';
  flow(): void {
    throw new Error('broken');
  }
}

/** Atlantic.fail's calls, in any engine. */
const hooks: string[] = [];
class Hooks extends Atlantic {
  static atlanticName = 'Fenced.Hooks';
  fail() {
    hooks.push('fail');
  }
}

describePg('events of an engine whose flow was taken over (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);

  it('emits no river:compensate for a compensation whose end the store refused, runs no Atlantic.fail and reports no flow:end: the new owner does', async () => {
    Books.compensations = 0;
    hooks.length = 0;
    const classes = [Books, Breaks, Hooks];
    // a heartbeat far apart: the engine learns of the takeover only from its refused write
    const a = await engines.open({ classes, worker: { id: 'a', heartbeat: '10s', leaseTime: '30s' } });
    const seen: string[] = [];
    a.on('river:compensate', (e: EngineEvents['river:compensate']) => seen.push(`compensate ${e.status}`));
    a.on('flow:end', (e: EngineEvents['flow:end']) => seen.push(`end ${e.status}`));
    const run = await new Andes(a).drawHeadwaters(new Headwaters('fenced-saga')).drawStream(new Books(), new Breaks()).drawAtlantic(new Hooks()).start();
    await until(() => Books.compensations === 1, 2000, 'the compensation under way in a');

    const b: Engine = await engines.open({ classes, clock: new AheadClock(HOUR), worker: { id: 'b', heartbeat: '100ms', leaseTime: '2s' } });
    await until(async () => (await b.get(run.id))?.atlantic?.done === true, 5000, 'the flow taken over and ended by b, its hook run');
    expect(Books.compensations, 'b compensated the river again').to.equal(2);
    expect(hooks, 'Atlantic.fail ran in b').to.deep.equal(['fail']);
    const ended = await b.get(run.id);

    openGate(); // a's compensate() returns: its end is written with the claim a lost
    await a.close(); // once closed, a has announced all it will
    expect(seen, 'what a announced').to.deep.equal(['compensate start']);
    expect(hooks, 'Atlantic.fail did not run again in a').to.deep.equal(['fail']);
    expect(await b.get(run.id), 'the records b wrote').to.deep.equal(ended);
  });
});
