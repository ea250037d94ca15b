import { expect } from 'chai';
import { created, header, useStore, type StoreFactory } from './types.js';

export function queue(factory: StoreFactory): void {
  describe('waiting queue and unfinished flows', () => {
    const fx = useStore(factory);

    it('lists waiting flows in seq order, whatever order they were written in', async () => {
      const { store } = fx();
      await store.write([
        created('c', { status: 'waiting', seq: 30 }),
        created('a', { status: 'waiting', seq: 10_000_000_000_000 }),
        created('b', { status: 'waiting', seq: 20 }),
      ]);
      expect(await store.listWaiting()).to.deep.equal(['b', 'c', 'a']);
    });

    it('takes a flow off the queue when it is claimed', async () => {
      const { store } = fx();
      await store.write([created('a', { status: 'waiting', seq: 1 }), created('b', { status: 'waiting', seq: 2 })]);
      await store.write([{ flowId: 'a', header: header('a', { status: 'running', seq: 1 }), claimed: true }]);
      expect(await store.listWaiting()).to.deep.equal(['b']);
      expect((await store.listUnfinished()).sort()).to.deep.equal(['a', 'b']);
    });

    it('counts a flow unfinished until its Atlantic hook is recorded done', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      await store.write([{ flowId: 'a', header: header('a', { status: 'success', atlantic: { outcome: 'success', done: false } }) }]);
      expect((await store.listUnfinished()).sort()).to.deep.equal(['a', 'b']);
      await store.write([{ flowId: 'a', header: header('a', { status: 'success', atlantic: { outcome: 'success', done: true } }) }]);
      expect(await store.listUnfinished()).to.deep.equal(['b']);
    });
  });
}
