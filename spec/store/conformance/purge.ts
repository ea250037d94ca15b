import { expect } from 'chai';
import { created, header, rec, useStore, type StoreFactory } from './types.js';

export function purge(factory: StoreFactory): void {
  describe('purge', () => {
    const fx = useStore(factory);

    /** A flow created, run and ended with `status` at `updatedAt`, with a stream, headwaters and a command. */
    async function ended(id: string, status: 'success' | 'fail' | 'cancelled', updatedAt: number, hookDone = true): Promise<void> {
      const { store } = fx();
      await store.write([created(id)]);
      await store.addCommand(id, { kind: 'cancel', reason: 'too late' }, 5);
      await store.write([
        {
          flowId: id,
          header: header(id, { status, updatedAt, atlantic: { outcome: status === 'success' ? 'success' : 'fail', done: hookDone } }),
          streams: {
            '0': rec({ state: 'success', attempts: 1 }),
            '1': rec({ state: status === 'success' ? 'success' : status === 'fail' ? 'fail' : 'skipped', attempts: 1 }),
          },
          headwaters: { main: { set: { b: 2 }, del: [] } },
        },
      ]);
    }

    it('deletes ended flows last updated before the time, with every record, index entry and command', async () => {
      const { store } = fx();
      if (store.purge === undefined) return;
      await ended('a', 'success', 100);
      await ended('b', 'fail', 200);
      await ended('c', 'cancelled', 300);
      await ended('d', 'success', 5000);
      expect(await store.purge({ before: 1000 })).to.equal(3);
      for (const id of ['a', 'b', 'c']) {
        expect(await store.getFlow(id), id).to.equal(undefined);
        expect(await store.findFlowId(`req-${id}`), id).to.equal(undefined);
        expect(await store.listCommands({ flowId: id }), id).to.deep.equal([]);
      }
      expect((await store.listFlows()).map((h) => h.id)).to.deep.equal(['d']);
      for (const status of ['success', 'fail', 'cancelled'] as const) {
        expect(
          (await store.listFlows({ status })).map((h) => h.id),
          status,
        ).to.deep.equal(status === 'success' ? ['d'] : []);
      }
      expect(await store.listCommands()).to.have.length(1);
      expect(await store.purge({ before: 1000 }), 'nothing left to purge').to.equal(0);
    });

    it('never deletes an unfinished flow: running, waiting, or ended with its hook still to run', async () => {
      const { store } = fx();
      if (store.purge === undefined) return;
      await store.write([created('r', { updatedAt: 1 }), created('w', { status: 'waiting', seq: 7, updatedAt: 1 })]);
      await ended('h', 'fail', 1, false);
      expect(await store.purge({ before: 1_000_000 })).to.equal(0);
      for (const id of ['r', 'w', 'h']) expect(await store.getFlow(id), id).to.not.equal(undefined);
      expect(await store.listWaiting()).to.deep.equal(['w']);
      expect((await store.listUnfinished()).sort()).to.deep.equal(['h', 'r', 'w']);
    });

    it('keeps a failed flow whose redrive is recorded (an engine with its classes is to run it again); a success with a stale one goes', async () => {
      const { store } = fx();
      if (store.purge === undefined) return;
      await ended('f', 'fail', 100);
      await store.addCommand('f', { kind: 'redrive' }, 6);
      await ended('s', 'success', 100);
      await store.addCommand('s', { kind: 'redrive' }, 6);
      expect(await store.purge({ before: 1000 })).to.equal(1);
      expect(await store.getFlow('f')).to.not.equal(undefined);
      expect(await store.getFlow('s')).to.equal(undefined);
      expect((await store.listCommands({ flowId: 'f', kinds: ['redrive'] })).map((c) => c.body)).to.deep.equal([{ kind: 'redrive' }]);
    });

    it('deletes only the flows of the status asked for', async () => {
      const { store } = fx();
      if (store.purge === undefined) return;
      await ended('a', 'success', 100);
      await ended('b', 'fail', 100);
      expect(await store.purge({ before: 1000, status: 'fail' })).to.equal(1);
      expect(await store.getFlow('b')).to.equal(undefined);
      expect(await store.getFlow('a')).to.not.equal(undefined);
    });

    it('lets a purged requestId start a new flow', async () => {
      const { store } = fx();
      if (store.purge === undefined) return;
      await ended('a', 'success', 100);
      await store.purge({ before: 1000 });
      const result = await store.write([{ ...created('a2'), header: header('a2', { requestId: 'req-a' }) }]);
      expect(result.duplicates).to.deep.equal([]);
      expect(await store.findFlowId('req-a')).to.equal('a2');
      expect((await store.getFlow('a2'))?.headwaters['main']).to.deep.equal({ a: 1 });
    });
  });
}
