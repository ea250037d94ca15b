import { expect } from 'chai';
import type { ChangePage } from '../../../lib/store/records.js';
import type { Store } from '../../../lib/store/store.js';
import { created, header, useStore, type StoreFactory } from './types.js';

const read = (store: Store, cursor: string | undefined, limit: number): Promise<ChangePage> => {
  if (store.changes === undefined) throw new Error('the store declares a change feed but has no changes()');
  return store.changes(cursor, limit);
};

/** The entries' flows, statuses and times. */
const entries = (page: ChangePage) => page.entries.map(({ flowId, status, updatedAt }) => ({ flowId, status, updatedAt }));

/** Registered for stores that declare `supports.changes`. */
export function changeFeed(factory: StoreFactory): void {
  describe('change feed', () => {
    const fx = useStore(factory);

    it('declares supports.changes, and has changes()', () => {
      const { store } = fx();
      expect(store.supports.changes).to.equal(true);
      expect(store.changes).to.be.a('function');
    });

    it('lists the changed flows from the start, in the order they changed', async () => {
      const { store } = fx();
      await store.write([created('b', { updatedAt: 10 })]);
      await store.write([created('a', { updatedAt: 20 })]);
      await store.write([{ flowId: 'b', header: header('b', { status: 'success', updatedAt: 30 }) }]);
      const page = await read(store, undefined, 100);
      expect(entries(page).at(-1)).to.deep.equal({ flowId: 'b', status: 'success', updatedAt: 30 });
      expect(entries(page).findIndex((e) => e.flowId === 'a')).to.be.within(0, page.entries.length - 2);
      expect(page.cursor).to.be.a('string');
    });

    it('gives, from the cursor it returned, only the changes after it', async () => {
      const { store } = fx();
      await store.write([created('a', { updatedAt: 10 })]);
      await store.write([created('b', { updatedAt: 20 })]);
      const first = await read(store, undefined, 100);
      expect(entries(first).map((e) => e.flowId)).to.deep.equal(['a', 'b']);
      await store.write([{ flowId: 'a', header: header('a', { status: 'fail', updatedAt: 30 }) }]);
      const next = await read(store, first.cursor, 100);
      expect(entries(next)).to.deep.equal([{ flowId: 'a', status: 'fail', updatedAt: 30 }]);
      expect(entries(await read(store, next.cursor, 100))).to.deep.equal([]);
    });

    it('lists at most limit changes, and the cursor goes on from the last one listed', async () => {
      const { store } = fx();
      for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) await store.write([created(id, { updatedAt: i })]);
      const seen: string[][] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 4; i++) {
        const page = await read(store, cursor, 2);
        seen.push(page.entries.map((e) => e.flowId));
        cursor = page.cursor;
      }
      expect(seen).to.deep.equal([['a', 'b'], ['c', 'd'], ['e'], []]);
    });
  });
}
