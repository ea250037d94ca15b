import { expect } from 'chai';
import { Engine, Headwaters } from '../../lib/index.js';
import { forEachStore, rejects, silent, startFlow, until, useEngines } from '../helpers/stores.js';
import { Hold, Ok } from '../admin/rivers.js';

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
