// Two engines redrive one failed flow at the same moment on PostgreSQL: the one whose redrive the
// store refused may meanwhile have claimed the flow from the other's redrive, and must run it on.
import { expect } from 'chai';
import { Andes, Headwaters, River, type Store } from '../../lib/index.js';
import type { FlowChange } from '../../lib/store/records.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { latch, overriding, rejects, until, useEngines, within } from '../helpers/stores.js';

/** Fails its first call; its second waits for `gate`. */
class SecondWaits extends River {
  static riverName = 'RedriveRace.SecondWaits';
  static calls = 0;
  static gate = latch();
  async flow(hw: Headwaters) {
    SecondWaits.calls++;
    if (SecondWaits.calls === 1) throw new Error('first time down');
    await SecondWaits.gate.promise;
    hw.put('done', true);
  }
}

/** The real store, whose writes of a redrive are held until `release()`. */
function holdingRedrives(store: Store): { store: Store; held: Promise<void>; release: () => void } {
  const held = latch();
  const released = latch();
  const write = (changes: readonly FlowChange[]) => {
    if (!changes.some((c) => c.reopened === true)) return store.write(changes);
    held.release();
    return released.promise.then(() => store.write(changes));
  };
  return { store: overriding(store, { write }), held: held.promise, release: released.release };
}

describePg('a redrive refused while the engine runs the flow from another redrive (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);
  const worker = (id: string) => ({ id, heartbeat: '100ms', leaseTime: '2s' });

  it('runs the flow on to its end: the refusal is of the redrive, not of the claim', async () => {
    SecondWaits.calls = 0;
    SecondWaits.gate = latch();
    const holding = holdingRedrives(engines.store() as Store);
    const b = await engines.open({ store: holding.store, classes: [SecondWaits], worker: worker('b') });
    const client = await engines.open({ concurrency: 0, classes: [SecondWaits], worker: worker('client') });
    const run = await new Andes(b).drawHeadwaters(new Headwaters('raced')).drawStream(new SecondWaits()).start();
    expect((await run.result()).status).to.equal('fail');
    // b's redrive is held on its way to the database; the client's lands, and b claims the flow from it
    const refused = rejects(b.redrive(run.id));
    await within(holding.held, 2000, "b's redrive on its way");
    const again = await client.redrive(run.id);
    await until(() => SecondWaits.calls === 2, 5000, 'b running the flow from the client redrive');
    holding.release();
    expect((await refused).code).to.equal('E_CONFLICT');
    SecondWaits.gate.release();
    const outcome = await within(again.result(), 5000, 'the redriven flow ending');
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters['done']).to.equal(true);
  });
});
