// start() of a requestId on a shared store: no lookup before the create; the store refuses the
// second flow of a requestId in the create itself, and start() returns the flow it holds.
import { expect } from 'chai';
import { Andes, Headwaters, River } from '../../lib/index.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { useEngines } from '../helpers/stores.js';

class Once extends River {
  static riverName = 'SharedStart.Once';
  static calls = 0;
  async flow() {
    Once.calls++;
  }
}

describePg('start() of a requestId on a shared store (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);

  it('returns the flow the store holds, marked existing, from the engine that started it and from another', async () => {
    Once.calls = 0;
    const a = await engines.open({ classes: [Once], worker: { id: 'a', heartbeat: '100ms', leaseTime: '2s' } });
    const b = await engines.open({ classes: [Once], worker: { id: 'b', heartbeat: '100ms', leaseTime: '2s' } });
    const draw = (e: typeof a) => new Andes(e).drawHeadwaters(new Headwaters('order-1')).drawStream(new Once());
    const first = await draw(a).start();
    expect(first.existing).to.equal(false);
    expect((await first.result()).status).to.equal('success');
    for (const e of [a, b]) {
      const again = await draw(e).start();
      expect(again.id).to.equal(first.id);
      expect(again.existing).to.equal(true);
      expect((await again.result()).status).to.equal('success');
    }
    expect(Once.calls).to.equal(1);
    expect((await a.list()).map((f) => f.id)).to.deep.equal([first.id]);
  });
});
