// LISTEN/NOTIFY on a shared store, and without it (worker.listen: false, as behind pgbouncer in
// transaction mode): engines then find runnable flows at their heartbeat.
import { expect } from 'chai';
import pg from 'pg';
import { Andes, Headwaters, River, type Engine } from '../../lib/index.js';
import { describePg, PG_KIND, PG_URL } from '../helpers/postgres.js';
import { useEngines } from '../helpers/stores.js';

class Noted extends River {
  static riverName = 'SharedListen.Noted';
  async flow(hw: Headwaters) {
    hw.put('ran', true);
  }
}

/** The sessions on the server that LISTEN (their last statement). */
async function listeners(): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN "vastflow%' AND datname = current_database()`,
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

describePg('worker.listen on a shared store (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);

  for (const listen of [true, false]) {
    it(`with listen: ${listen}, runs a flow a client engine started${listen ? ', told by NOTIFY' : ', found at a heartbeat, with no LISTEN session'}`, async () => {
      const before = await listeners();
      const worker: Engine = await engines.open({ classes: [Noted], worker: { id: 'worker', heartbeat: '100ms', leaseTime: '2s', listen } });
      expect(await listeners()).to.equal(before + (listen ? 1 : 0));
      const client = await engines.open({ classes: [Noted], concurrency: 0, worker: { id: 'client', heartbeat: '1s', leaseTime: '5s', listen } });
      const run = await new Andes(client)
        .drawHeadwaters(new Headwaters(`listen-${listen}`))
        .drawStream(new Noted())
        .start();
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters['ran']).to.equal(true);
      expect((await worker.get(run.id))?.status).to.equal('success');
    });
  }
});
