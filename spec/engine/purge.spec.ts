import { expect } from 'chai';
import { Engine, Headwaters } from '../../lib/index.js';
import { forEachStore, rejects, silent, startFlow, until, useEngines } from '../helpers/stores.js';
import { Flaky, Hold, Ok } from '../admin/rivers.js';

forEachStore((kind) => {
  describe('engine.purge and retention', () => {
    const engines = useEngines(kind);

    it('deletes ended flows updated before the time (ms or a Date), never unfinished ones', async () => {
      const engine = await engines.open({ classes: [Ok, Hold] });
      const done = await startFlow(engine, [new Ok()], new Headwaters('done'));
      await done.result();
      const held = await startFlow(engine, [new Hold()], new Headwaters('held'));
      expect(await engine.purge({ before: 0 }), 'nothing that old').to.equal(0);
      expect(await engine.purge({ before: new Date(Date.now() + 60_000), status: 'fail' }), 'no failed flow').to.equal(0);
      expect(await engine.purge({ before: new Date(Date.now() + 60_000) })).to.equal(1);
      expect(await engine.get('done')).to.equal(undefined);
      expect((await engine.get('held'))?.status).to.equal('running');
      await engine.cancel(held.id);
      expect(await engine.purge({ before: Date.now() + 60_000, status: 'cancelled' })).to.equal(1);
      expect(await engine.list()).to.deep.equal([]);
      const again = await startFlow(engine, [new Ok()], new Headwaters('done'));
      expect(again.existing, 'a purged requestId starts afresh').to.equal(false);
    });

    it('rejects bad purge options with E_INVALID_ARGUMENT naming the field', async () => {
      const engine = await engines.open();
      for (const [bad, field] of [
        [{}, 'before'],
        [{ before: 'yesterday' }, 'before'],
        [{ before: -1 }, 'before'],
        [{ before: new Date(NaN) }, 'before'],
        [{ before: 1, status: 'running' }, 'status'],
        [{ before: 1, colour: 'red' }, 'colour'],
      ] as const) {
        const err = await rejects(engine.purge(bad as never));
        expect(err.code, JSON.stringify(bad)).to.equal('E_INVALID_ARGUMENT');
        expect(err.message, JSON.stringify(bad)).to.include(field);
      }
    });

    for (const first of ['purge', 'redrive'] as const)
      it(`leaves the store whole when a purge and a redrive of a failed flow race, the ${first} asked first`, async () => {
        Flaky.failing = true;
        const engine = await engines.open({ classes: [Flaky] });
        const run = await startFlow(engine, [new Flaky()], new Headwaters(`raced-${first}`));
        expect((await run.result()).status).to.equal('fail');
        Flaky.failing = false;
        const purge = () => engine.purge({ before: Date.now() + 60_000 });
        const redrive = () => engine.redrive(run.id).then((r) => r.result());
        const [purged, redriven] = await Promise.allSettled(first === 'purge' ? [purge(), redrive()] : [redrive(), purge()].reverse());
        const snap = await engine.get(run.id);
        if (first === 'purge') {
          // the purge took the failed flow: the redrive finds none
          expect(purged).to.deep.include({ status: 'fulfilled', value: 1 });
          expect((redriven as PromiseRejectedResult).reason).to.have.property('code', 'E_INVALID_ARGUMENT');
          expect(snap).to.equal(undefined);
          expect(await engine.list()).to.deep.equal([]);
        } else {
          // the redrive reopened it first: the purge leaves it, and it ends as the redrive ran it
          expect(purged).to.deep.include({ status: 'fulfilled', value: 0 });
          expect((redriven as PromiseFulfilledResult<{ status: string }>).value.status).to.equal('success');
          expect(snap?.status).to.equal('success');
          expect((await engine.get(`raced-${first}`))?.id).to.equal(run.id);
        }
        if (kind.persistent) {
          await engine.close();
          const reopened = await engines.open({ classes: [Flaky] });
          expect((await reopened.get(run.id))?.status).to.equal(snap?.status);
        }
      });

    if (kind.persistent)
      it('keeps a failed flow whose redrive is recorded for an engine with its classes', async () => {
        Flaky.failing = true;
        const engine = await engines.open({ classes: [Flaky] });
        const run = await startFlow(engine, [new Flaky()], new Headwaters('recorded-redrive'));
        expect((await run.result()).status).to.equal('fail');
        await engine.close();
        Flaky.failing = false;
        // an engine without the class records the redrive; a purge meanwhile must not take the flow
        const without = await engines.open();
        await without.redrive(run.id);
        expect(await without.purge({ before: Date.now() + 60_000 })).to.equal(0);
        await without.close();
        const next = await engines.open({ classes: [Flaky] });
        await until(async () => (await next.get(run.id))?.status === 'success', 3000, 'the recorded redrive carried out');
      });

    it('purges in the background with Engine.open({ retention })', async () => {
      const engine = await engines.open({ classes: [Ok], retention: 20 });
      const run = await startFlow(engine, [new Ok()]);
      await run.result();
      await until(async () => (await engine.get(run.id)) === undefined, 4000, 'the background purge');
    });
  });
});

describe('Engine.open({ retention })', () => {
  it('must be a duration of more than 0', async () => {
    for (const bad of ['forever', 0, -5, '9999d']) {
      const err = await rejects(Engine.open({ store: 'memory', logger: silent, retention: bad }));
      expect(err.code, String(bad)).to.equal('E_INVALID_ARGUMENT');
      expect(err.message, String(bad)).to.include('retention');
    }
  });
});
