import { expect } from 'chai';
import type { Store } from '../../../lib/store/store.js';
import { created, header, rec, useStore, type StoreFactory } from './types.js';

/**
 * Due by 100: d10 and d30 (due at 10, 30), none (no dueAt) and hook (ended, its Atlantic hook still
 * to run). Not due: later (due at 500), waiting (queued), done and failed (ended).
 */
async function mixed(store: Store): Promise<void> {
  await store.write([
    created('later'),
    created('d30'),
    created('none'),
    created('waiting', { status: 'waiting', seq: 1 }),
    created('d10'),
    created('done'),
    created('failed'),
    created('hook'),
  ]);
  await store.write([
    { flowId: 'later', header: header('later', { dueAt: 500 }) },
    { flowId: 'd30', header: header('d30', { dueAt: 30 }) },
    { flowId: 'd10', header: header('d10', { dueAt: 10 }) },
    { flowId: 'done', header: header('done', { status: 'success' }) },
    { flowId: 'failed', header: header('failed', { status: 'fail', atlantic: { outcome: 'fail', done: true } }) },
    { flowId: 'hook', header: header('hook', { status: 'success', atlantic: { outcome: 'success', done: false } }) },
  ]);
}

export function due(factory: StoreFactory, persistent: boolean): void {
  describe('due flows', () => {
    const fx = useStore(factory);

    it('lists the unfinished flows due by now and those without dueAt, the earlier dueAt first', async () => {
      const { store } = fx();
      await mixed(store);
      const listed = await store.listDue(100, 100);
      expect([...listed].sort()).to.deep.equal(['d10', 'd30', 'hook', 'none']);
      expect(listed.indexOf('d10')).to.be.lessThan(listed.indexOf('d30'));
    });

    it('counts a flow due at now as due, and one due after now not', async () => {
      const { store } = fx();
      await mixed(store);
      expect([...(await store.listDue(30, 100))].sort()).to.deep.equal(['d10', 'd30', 'hook', 'none']);
      expect([...(await store.listDue(29, 100))].sort()).to.deep.equal(['d10', 'hook', 'none']);
    });

    it('lists at most limit flows, the earliest due', async () => {
      const { store } = fx();
      await store.write([created('e30'), created('e10'), created('later'), created('e20')]);
      await store.write(
        (<Array<[string, number]>>[
          ['e30', 30],
          ['e10', 10],
          ['later', 500],
          ['e20', 20],
        ]).map(([id, dueAt]) => ({ flowId: id, header: header(id, { dueAt }) })),
      );
      expect(await store.listDue(100, 1)).to.deep.equal(['e10']);
      expect(await store.listDue(100, 2)).to.deep.equal(['e10', 'e20']);
      expect(await store.listDue(100, 10)).to.deep.equal(['e10', 'e20', 'e30']);
      await store.write([created('now')]);
      const three = await store.listDue(100, 3);
      expect(new Set(three).size).to.equal(3);
      expect(['e10', 'e20', 'e30', 'now']).to.include.members(three);
    });

    it("follows the flow's header: a dueAt set, cleared, a flow claimed off the queue, a flow ended", async () => {
      const { store } = fx();
      await store.write([created('a'), created('w', { status: 'waiting', seq: 1 })]);
      expect(await store.listDue(100, 10)).to.deep.equal(['a']);
      await store.write([{ flowId: 'a', header: header('a', { dueAt: 500 }) }]);
      expect(await store.listDue(100, 10)).to.deep.equal([]);
      // a write without a header leaves the due time as it was
      await store.write([{ flowId: 'a', streams: { '0': rec({ state: 'running', attempts: 1 }) } }]);
      expect(await store.listDue(100, 10)).to.deep.equal([]);
      await store.write([{ flowId: 'a', header: header('a') }]);
      expect(await store.listDue(100, 10)).to.deep.equal(['a']);
      await store.write([{ flowId: 'w', header: header('w', { seq: 1 }), claimed: true }]);
      expect((await store.listDue(100, 10)).sort()).to.deep.equal(['a', 'w']);
      await store.write([{ flowId: 'a', header: header('a', { status: 'cancelled' }) }]);
      expect(await store.listDue(100, 10)).to.deep.equal(['w']);
    });

    if (!persistent) return;

    it('keeps due times across close and reopen', async () => {
      const { store, reopen } = fx();
      if (reopen === undefined) throw new Error('a persistent store fixture must give reopen()');
      await mixed(store);
      await store.close();
      const again = reopen();
      await again.open();
      try {
        const listed = await again.listDue(100, 100);
        expect([...listed].sort()).to.deep.equal(['d10', 'd30', 'hook', 'none']);
        expect(listed.indexOf('d10')).to.be.lessThan(listed.indexOf('d30'));
        expect(await again.listDue(500, 100)).to.include('later');
        expect(await again.listDue(499, 100)).not.to.include('later');
      } finally {
        await again.close();
      }
    });
  });
}
