// Errors made in another realm (a node:vm context) fail `instanceof Error`: they must still be
// recognised as errors, by their message and, for FatalError, by their name.
import { expect } from 'chai';
import vm from 'node:vm';
import { Atlantic, River, type FlowError, type Headwaters, type RiverAttr } from '../../lib/index.js';
import { forEachStore, runToEnd, startFlow, useEngines } from '../helpers/stores.js';

/** A river whose flow() throws what `make()` returns, with three retries at no interval. */
function throwing(make: () => unknown) {
  return class ForeignThrower extends River {
    calls = 0;
    update(attr: RiverAttr): void {
      attr.retryTimes = 3;
      attr.retryInterval = 0;
    }
    flow(): void {
      this.calls++;
      throw make();
    }
  };
}

forEachStore((kind) => {
  describe('errors from another realm', () => {
    const engines = useEngines(kind);

    it("fails a river whose flow() throws a vm-made Error with that error's message", async () => {
      const engine = await engines.open();
      const made = vm.runInNewContext('new Error("boom")') as unknown;
      expect(made instanceof Error).to.equal(false); // the premise: another realm
      const river = new (throwing(() => made))();
      const { outcome } = await runToEnd(engine, [river]);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error?.code).to.equal('E_RIVER_FAILED');
      expect(outcome.error?.message).to.contain('boom');
      expect(outcome.error?.message).not.to.contain('non-error thrown');
      expect(outcome.error?.cause).to.equal('boom');
      expect(river.calls).to.equal(4);
    });

    it('does not retry a vm-made error named FatalError (attempted once with retryTimes 3)', async () => {
      const engine = await engines.open();
      const river = new (throwing(() => vm.runInNewContext('const e = new Error("no such order"); e.name = "FatalError"; e')))();
      const { id, outcome } = await runToEnd(engine, [river]);
      expect(river.calls).to.equal(1);
      expect(outcome.error?.code).to.equal('E_RIVER_FAILED');
      expect(outcome.error?.attempts).to.equal(1);
      expect(outcome.error?.message).to.contain('no such order').and.to.contain('fatal');
      expect((await engine.get(id))?.streams[0]?.attempts).to.equal(1);
    });

    it('records the message of a vm-made error thrown by an Atlantic hook', async () => {
      const engine = await engines.open();
      class OkRiver extends River {
        flow(hw: Headwaters): void {
          hw.put('ok', true);
        }
      }
      class ForeignAtlantic extends Atlantic {
        success(): void {
          throw vm.runInNewContext('new TypeError("hook broke")');
        }
        fail(_hw: Headwaters, _e: FlowError): void {}
      }
      const run = await startFlow(engine, [new OkRiver()], undefined, new ForeignAtlantic());
      expect((await run.result()).status).to.equal('success');
      const snap = (await engine.get(run.id)) as unknown as Record<string, unknown>;
      expect(JSON.stringify(snap)).to.contain('Atlantic.success threw: hook broke');
    });
  });
});
