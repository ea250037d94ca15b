// Options at their edges on PostgreSQL: a database the server does not have, and a heartbeat longer
// than a timer can wait.
import { expect } from 'chai';
import { Engine, PostgresStore } from '../../lib/index.js';
import { describePg, freshSchema, PG_URL } from '../helpers/postgres.js';
import { rejects, silent } from '../helpers/stores.js';

describePg('PostgreSQL options at their edges', () => {
  it('Engine.open of a database the server does not have rejects with E_STORE_UNAVAILABLE naming it', async () => {
    const url = Object.assign(new URL(PG_URL), { pathname: '/vastflow_no_such_db' }).toString();
    const err = await rejects(Engine.open({ store: url, logger: silent }));
    expect(err).to.have.property('code', 'E_STORE_UNAVAILABLE');
    expect(err.message).to.contain('vastflow_no_such_db');
  });

  it('a heartbeat longer than a timer can wait (30 days) does not make the worker tick every millisecond', async () => {
    const { schema, drop } = freshSchema('longbeat');
    const overflows: string[] = [];
    const onWarning = (w: Error) => void (w.name === 'TimeoutOverflowWarning' && overflows.push(w.message));
    process.on('warning', onWarning);
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    const engine = await Engine.open({ store, logger: silent, worker: { heartbeat: '30d', leaseTime: '60d' } });
    try {
      const before = (await engine.workers())[0]!.heartbeatAt;
      await new Promise((r) => setTimeout(r, 300));
      expect(overflows, 'setTimeout given more than 2^31-1 ms').to.deep.equal([]);
      expect((await engine.workers())[0]!.heartbeatAt, 'no heartbeat in 300 ms').to.equal(before);
    } finally {
      process.off('warning', onWarning);
      await engine.close();
      await drop();
    }
  });
});
