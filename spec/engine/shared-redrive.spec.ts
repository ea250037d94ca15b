// Redrive on a store shared by several engines: the redriven flow goes back to the queue with no
// owner, and the first engine with room runs it — also when the engine that ran it before is alive.
import { expect } from 'chai';
import { Andes, Headwaters, River, type Engine } from '../../lib/index.js';
import { describePg, PG_KIND } from '../helpers/postgres.js';
import { until, useEngines, within } from '../helpers/stores.js';

class FailsOnce extends River {
  static riverName = 'SharedRedrive.FailsOnce';
  static calls = 0;
  async flow(hw: Headwaters) {
    FailsOnce.calls++;
    if (FailsOnce.calls === 1) throw new Error('first time down');
    hw.put('done', true);
  }
}

class Fails extends River {
  static riverName = 'SharedRedrive.Fails';
  async flow() {
    throw new Error('down');
  }
}

describePg('redrive on a shared store (PostgreSQL)', () => {
  const engines = useEngines(PG_KIND);
  let a: Engine;
  let b: Engine;
  beforeEach(async () => {
    FailsOnce.calls = 0;
    const worker = (id: string) => ({ id, heartbeat: '100ms', leaseTime: '2s' });
    a = await engines.open({ classes: [FailsOnce, Fails], worker: worker('a') });
    b = await engines.open({ classes: [FailsOnce, Fails], worker: worker('b') });
  });

  for (const from of ['the engine that ran it', 'another engine'] as const) {
    it(`runs a failed flow again when ${from} redrives it`, async () => {
      const run = await new Andes(a)
        .drawHeadwaters(new Headwaters(`redrive-${from.length}`))
        .drawStream(new FailsOnce())
        .start();
      expect((await run.result()).status).to.equal('fail');
      const again = await (from === 'another engine' ? b : a).redrive(run.id);
      expect((await again.result()).status).to.equal('success');
      expect(FailsOnce.calls).to.equal(2);
      await until(async () => (await b.get(run.id))?.headwaters['done'] === true, 2000, 'the redriven flow recorded');
    });
  }

  it('redrives once when two engines redrive the same flow at the same moment: the other gets E_CONFLICT', async () => {
    const run = await new Andes(a).drawHeadwaters(new Headwaters('redrive-twice')).drawStream(new FailsOnce()).start();
    expect((await run.result()).status).to.equal('fail');
    const tries = await Promise.allSettled([a.redrive(run.id), b.redrive(run.id)]);
    const redriven = tries.filter((t) => t.status === 'fulfilled');
    expect(redriven, JSON.stringify(tries.map((t) => t.status))).to.have.length(1);
    const refused = tries.find((t) => t.status === 'rejected')!;
    expect(refused.reason).to.have.property('code', 'E_CONFLICT');
    expect((await redriven[0]!.value.result()).status).to.equal('success');
    expect(FailsOnce.calls, 'the river ran once more, not twice').to.equal(2);
  });

  it("records the redrive of a client engine that lacks the flow's classes, for an engine that has them", async () => {
    const run = await new Andes(a).drawHeadwaters(new Headwaters('redrive-client')).drawStream(new FailsOnce()).start();
    expect((await run.result()).status).to.equal('fail');
    const client = await engines.open({ concurrency: 0, worker: { id: 'client', heartbeat: '100ms' } });
    const again = await client.redrive(run.id);
    expect(again.id).to.equal(run.id);
    // not the failure it had before: the end of the run the redrive began
    const outcome = await again.result();
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters).to.deep.equal({ done: true });
    expect(FailsOnce.calls).to.equal(2);
  });

  /** A flow that failed on `a`, with `a` and `b` closed after it: no engine with its class is left. */
  async function failedWithNoEngineLeft(requestId: string) {
    const run = await new Andes(a).drawHeadwaters(new Headwaters(requestId)).drawStream(new FailsOnce()).start();
    expect((await run.result()).status).to.equal('fail');
    await a.close();
    await b.close();
    return run;
  }

  it('leaves a recorded redrive in the store for an engine with the classes: engines without them do not take it', async () => {
    const run = await failedWithNoEngineLeft('redrive-left');
    // two engines without the class read the store's commands every 100 ms
    const client = await engines.open({ concurrency: 0, worker: { id: 'client', heartbeat: '100ms' } });
    await engines.open({ worker: { id: 'classless', heartbeat: '100ms' } });
    const again = await client.redrive(run.id);
    await new Promise((r) => setTimeout(r, 600));
    expect((await client.get(run.id))?.status, 'not run by an engine without the class').to.equal('fail');
    await engines.open({ classes: [FailsOnce], worker: { id: 'c', heartbeat: '2s', leaseTime: '6s' } });
    const outcome = await within(again.result(), 4000, 'the recorded redrive carried out');
    expect(outcome).to.deep.include({ status: 'success' });
    expect(FailsOnce.calls).to.equal(2);
  });

  it('keeps a failed flow whose redrive a client recorded out of a purge, for the engine that runs it later', async () => {
    const run = await failedWithNoEngineLeft('redrive-kept');
    const client = await engines.open({ concurrency: 0, worker: { id: 'client', heartbeat: '100ms' } });
    const again = await client.redrive(run.id);
    expect(await client.purge({ before: Date.now() + 60_000 }), 'the flow to run again is no purge').to.equal(0);
    await engines.open({ classes: [FailsOnce], worker: { id: 'c', heartbeat: '100ms', leaseTime: '2s' } });
    const outcome = await within(again.result(), 4000, 'the recorded redrive carried out');
    expect(outcome).to.deep.include({ status: 'success' });
  });

  it("refuses a redrive racing another engine's purge of the flow as of no such flow (E_INVALID_ARGUMENT), not as a redrive elsewhere", async () => {
    const runs = [];
    for (let i = 0; i < 40; i++)
      runs.push(
        await new Andes(a)
          .drawHeadwaters(new Headwaters(`purged-${i}`))
          .drawStream(new Fails())
          .start(),
      );
    for (const r of runs) expect((await r.result()).status).to.equal('fail');
    const [redrives] = await Promise.all([Promise.allSettled(runs.map((r) => a.redrive(r.id))), b.purge({ before: Date.now() + 60_000 })]);
    const codes = redrives.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code);
    expect(codes.filter((c) => c !== 'E_INVALID_ARGUMENT')).to.deep.equal([]);
  });
});
