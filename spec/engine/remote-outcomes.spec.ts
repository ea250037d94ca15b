// Outcomes an engine awaits of flows other engines run: on PostgreSQL all of them are read at each
// poll (getEnded), elsewhere a bounded number in turn, so a flow that ends resolves its result()
// however many flows awaited before it still run.
import { expect } from 'chai';
import { Andes, Headwaters, River } from '../../lib/index.js';
import { RemoteOutcomes } from '../../lib/engine/remote-outcomes.js';
import type { FlowOutcome } from '../../lib/model/flow-run.js';
import { LevelStore } from '../../lib/store/level-store.js';
import { deferred } from '../../lib/util/deferred.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { silent, useEngines } from '../helpers/stores.js';
import type { Store } from '../../lib/store/store.js';
import { created, rec } from '../store/conformance/types.js';

let open: () => void = () => undefined;
let gate = new Promise<void>((r) => (open = r));

class Held extends River {
  static riverName = 'RemoteOutcomes.Held';
  async flow(hw: Headwaters) {
    await gate;
    hw.put('held', true);
  }
}

class Quick extends River {
  static riverName = 'RemoteOutcomes.Quick';
  async flow(hw: Headwaters) {
    hw.put('quick', true);
  }
}

describePg('outcomes of flows another engine runs (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);

  beforeEach(() => {
    gate = new Promise<void>((r) => (open = r));
  });
  afterEach(() => open());

  it('resolves the result of a flow that ended while the 250 flows awaited before it still run', async () => {
    const classes = [Held, Quick];
    await engines.open({ classes, concurrency: 300, worker: { id: 'worker', heartbeat: '100ms', leaseTime: '2s' } });
    const client = await engines.open({ classes, concurrency: 0, worker: { id: 'client', heartbeat: '100ms', leaseTime: '2s' } });
    const held = await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        new Andes(client)
          .drawHeadwaters(new Headwaters(`held-${i}`))
          .drawStream(new Held())
          .start(),
      ),
    );
    const heldOutcomes = Promise.all(held.map((r) => r.result()));
    const quick = await new Andes(client).drawHeadwaters(new Headwaters('quick')).drawStream(new Quick()).start();
    const started = Date.now();
    const outcome = await quick.result();
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters['quick']).to.equal(true);
    // a few polls of 20 ms, not the end of the 250 held flows (they wait until the gate opens)
    expect(Date.now() - started).to.be.below(3000);
    open();
    const all = await heldOutcomes;
    expect(all.map((o) => o.status)).to.deep.equal(Array.from({ length: 250 }, () => 'success'));
    expect(all.every((o) => o.headwaters['held'] === true)).to.equal(true);
  });
});

describe('outcomes of flows another engine runs, on a store that reads one flow at a time', () => {
  it('reads every awaited flow in turn, 200 a poll: an ended flow awaited behind 250 unfinished ones resolves', async () => {
    const store = LevelStore.memory();
    await store.open();
    try {
      const ids = Array.from({ length: 250 }, (_, i) => `run-${String(i).padStart(3, '0')}`);
      const done = rec({ state: 'success', attempts: 1 });
      await store.write([...ids.map((id) => created(id)), { ...created('ended', { status: 'success' }), streams: { '0': done, '1': done } }]);
      expect((store as Store).getEnded).to.equal(undefined);
      const remote = new RemoteOutcomes(store, silent, 5);
      const pending = ids.map((id) => {
        const d = deferred<FlowOutcome>();
        remote.await(id, d);
        return d;
      });
      const ended = deferred<FlowOutcome>();
      remote.await('ended', ended);
      await remote.poll(); // the first 200
      expect(remote.has('ended')).to.equal(true);
      await remote.poll(); // the other 50, and the ended one
      expect(remote.has('ended')).to.equal(false);
      expect((await ended.promise).status).to.equal('success');
      remote.clear(new Error('closed'));
      await Promise.all(pending.map((d) => d.promise.catch(() => undefined)));
    } finally {
      await store.close();
    }
  });
});
