// A client engine (concurrency: 0) starts, cancels and redrives flows and never runs one itself,
// also when it has registered every class of the flow and no other engine is alive: the flow
// waits in the database until an engine with room takes it.
import { expect } from 'chai';
import { Andes, Atlantic, Headwaters, PostgresStore, River, type Engine, type FlowError, type RiverContext, type Store } from '../../lib/index.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { overriding, until, useEngines, within } from '../helpers/stores.js';

/** Which engine ran what: set to the engine's label before it may run anything. */
const ran: string[] = [];

class FailsFirst extends River {
  static riverName = 'ClientEngine.FailsFirst';
  static calls = 0;
  async flow(hw: Headwaters) {
    FailsFirst.calls++;
    ran.push('flow');
    if (FailsFirst.calls === 1) throw new Error('first time down');
    hw.put('done', true);
  }
}

class Hooks extends Atlantic {
  static atlanticName = 'ClientEngine.Hooks';
  success() {
    ran.push('success');
  }
  fail(_hw: Headwaters, error: FlowError) {
    ran.push(`fail ${error.code}`);
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePg('a client engine (concurrency: 0) with the flow classes (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);
  const classes = [FailsFirst, Hooks];
  const worker = (id: string) => ({ id, heartbeat: '100ms', leaseTime: '2s' });
  let client: Engine;
  beforeEach(async () => {
    ran.length = 0;
    FailsFirst.calls = 0;
    client = await engines.open({ concurrency: 0, classes, worker: worker('client') });
  });

  for (const has of ['with', 'without'] as const) {
    it(`leaves the cancel of a waiting flow to an engine with room, from a client ${has} the classes: Atlantic.fail runs there`, async () => {
      if (has === 'without') {
        await client.close();
        client = await engines.open({ concurrency: 0, worker: worker('bare client') });
      }
      const run = await new Andes(client).drawHeadwaters(new Headwaters('client-cancel')).drawStream(new FailsFirst()).drawAtlantic(new Hooks()).start();
      let cancelled = false;
      const cancelling = client.cancel(run.id, 'no longer wanted').then(() => (cancelled = true));
      await settle(400);
      expect(ran, 'the client ran nothing of the flow').to.deep.equal([]);
      expect(cancelled, 'cancel resolves once the flow has ended').to.equal(false);
      expect((await client.get(run.id))?.status).to.equal('waiting');

      await engines.open({ classes, worker: worker('w') });
      await cancelling;
      expect((await run.result()).status).to.equal('cancelled');
      expect(ran).to.deep.equal(['fail E_CANCELLED']);
      expect((await client.get(run.id))?.status).to.equal('cancelled');
    });
  }

  for (const from of ['the engine', 'the client'] as const)
    it(`has a waiting flow started by ${from} and cancelled from a client without the classes start cancelled in the live engine that takes it when a place frees: no river of it runs`, async () => {
      // without the classes the client records the cancel in the flow's inbox, as the CLI does
      await client.close();
      client = await engines.open({ concurrency: 0, worker: worker('bare client') });
      const w = await engines.open({ classes: [Holding, FailsFirst, Hooks], concurrency: 1, worker: worker('w') });
      // started by the engine itself, which keeps the waiting flow ready to run, or by the client
      const starter = from === 'the engine' ? w : client;
      const first = await new Andes(starter).drawHeadwaters(new Headwaters('holds-the-place')).drawStream(new Holding()).start();
      await until(async () => (await w.get(first.id))?.streams[0]?.state === 'running', 3000, 'the first flow running');
      const second = await new Andes(starter)
        .drawHeadwaters(new Headwaters('waits-then-cancelled'))
        .drawStream(new FailsFirst())
        .drawAtlantic(new Hooks())
        .start();
      expect((await client.get(second.id))?.status).to.equal('waiting');
      const cancelling = client.cancel(second.id, 'no longer wanted');
      await until(async () => (await w.get(second.id))?.pendingCancel !== undefined, 3000, 'the cancel recorded');
      // the place frees: the engine takes the cancelled flow next
      await w.cancel(first.id);
      await cancelling;
      expect((await second.result()).status).to.equal('cancelled');
      expect(ran, 'no river of the cancelled flow ran; its Atlantic.fail did').to.deep.equal(['fail E_CANCELLED']);
    });

  it('settles the result() of a flow purged right after it ended: its outcome, or no such flow (E_INVALID_ARGUMENT), never a wait for ever', async () => {
    const w = await engines.open({ classes: [Quick], worker: worker('w') });
    let purging = true;
    // an operator's purge as eager as can be, beside the flows ending
    const purger = (async () => {
      while (purging) {
        await w.purge({ before: Date.now() + 60_000 });
        await settle(2);
      }
    })();
    try {
      const runs = [];
      for (let i = 0; i < 20; i++)
        runs.push(
          await new Andes(client)
            .drawHeadwaters(new Headwaters(`purged-${i}`))
            .drawStream(new Quick())
            .start(),
        );
      const settled = await within(Promise.allSettled(runs.map((r) => r.result())), 4000, 'every result() settling');
      for (const r of settled) {
        if (r.status === 'fulfilled') expect(r.value.status).to.equal('success');
        else expect(r.reason).to.have.property('code', 'E_INVALID_ARGUMENT');
      }
    } finally {
      purging = false;
      await purger;
    }
  });

  it('leaves a redriven flow to an engine with room, also when none is alive when it redrives', async () => {
    const w = await engines.open({ classes, worker: worker('w') });
    const run = await new Andes(client).drawHeadwaters(new Headwaters('client-redrive')).drawStream(new FailsFirst()).start();
    expect((await run.result()).status).to.equal('fail');
    await w.close();
    ran.length = 0;

    const again = await client.redrive(run.id);
    await settle(400);
    expect(ran, 'the client ran nothing of the flow').to.deep.equal([]);
    expect((await client.get(run.id))?.status).to.equal('waiting');

    await engines.open({ classes, worker: worker('w2') });
    expect((await again.result()).status).to.equal('success');
    expect(ran).to.deep.equal(['flow']);
    await until(async () => (await client.get(run.id))?.headwaters['done'] === true, 2000, 'the redriven flow recorded');
  });

  it('has a flow it starts taken at once by an engine with room, also when it starts while that engine reads what to claim', async () => {
    // the engine's claims answer 150 ms after their read, and its heartbeat is far off: only the notice of a runnable flow
    // has the second flow taken within the test
    let claiming: (() => void) | undefined;
    const store = slowClaims(engines.store() as PostgresStore, 150, () => claiming?.());
    await engines.open({ store, classes: [Quick], worker: { id: 'w', heartbeat: '20s', leaseTime: '60s' } });
    const inClaim = new Promise<void>((resolve) => (claiming = resolve));
    const first = await new Andes(client).drawHeadwaters(new Headwaters('quick-1')).drawStream(new Quick()).start();
    await inClaim;
    const t0 = Date.now();
    const second = await new Andes(client).drawHeadwaters(new Headwaters('quick-2')).drawStream(new Quick()).start();
    await within(Promise.all([first.result(), second.result()]), 3000, 'both flows ending');
    expect(Date.now() - t0).to.be.below(2000);
  });
});

/** `store` whose claim() answers `ms` after it has read; `onClaim` hears of each read. */
function slowClaims(store: PostgresStore, ms: number, onClaim: () => void): Store {
  return overriding(store, {
    claim: async (...args: Parameters<Store['claim']>) => {
      const claims = await store.claim(...args);
      onClaim();
      await settle(ms);
      return claims;
    },
  });
}

class Quick extends River {
  static riverName = 'ClientEngine.Quick';
}

/** Holds its flow until the flow's signal aborts (a cancel). */
class Holding extends River {
  static riverName = 'ClientEngine.Holding';
  async flow(_hw: Headwaters, ctx: RiverContext) {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}
