import { expect } from 'chai';
import type { FlowQuery } from '../../../lib/store/records.js';
import type { Store } from '../../../lib/store/store.js';
import { created, flowIds, header, useStore, type StoreFactory } from './types.js';

/** Every page of `query` from the first on: each page's ids, each next page `before` the last id of the one before. */
async function pages(store: Store, query: FlowQuery): Promise<string[][]> {
  const out: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = (await store.listFlows(before === undefined ? query : { ...query, before })).map((h) => h.id);
    if (page.length === 0) return out;
    out.push(page);
    before = page.at(-1);
    if (out.length > 100) throw new Error('listFlows pages without end');
  }
}

export function paging(factory: StoreFactory): void {
  describe('listing flows in pages', () => {
    const fx = useStore(factory);

    it('lists flows in descending order of id, whatever order they were written and updated in', async () => {
      const { store } = fx();
      await store.write([created('f2'), created('f0'), created('f3'), created('f1')]);
      await store.write([{ flowId: 'f0', header: header('f0', { updatedAt: 5000 }) }]);
      expect((await store.listFlows()).map((h) => h.id)).to.deep.equal(['f3', 'f2', 'f1', 'f0']);
    });

    it('pages through every flow with before, without a duplicate or a gap', async () => {
      const { store } = fx();
      const all = flowIds(25);
      await store.write(all.map((id) => created(id)));
      const got = await pages(store, { limit: 10 });
      expect(got.map((p) => p.length)).to.deep.equal([10, 10, 5]);
      expect(got.flat()).to.deep.equal([...all].reverse());
      expect((await store.listFlows({ before: 'f05' })).map((h) => h.id)).to.deep.equal(['f04', 'f03', 'f02', 'f01', 'f00']);
    });

    it('pages through the flows of one status, counting an ended flow whose Atlantic hook is still to run by its status', async () => {
      const { store } = fx();
      const all = flowIds(10);
      await store.write(all.map((id) => created(id)));
      await store.write([
        { flowId: 'f01', header: header('f01', { status: 'success' }) },
        { flowId: 'f04', header: header('f04', { status: 'success', atlantic: { outcome: 'success', done: true } }) },
        { flowId: 'f05', header: header('f05', { status: 'fail' }) },
        { flowId: 'f07', header: header('f07', { status: 'success' }) },
        { flowId: 'f08', header: header('f08', { status: 'success', atlantic: { outcome: 'success', done: false } }) },
      ]);
      expect(await pages(store, { status: 'success', limit: 2 })).to.deep.equal([
        ['f08', 'f07'],
        ['f04', 'f01'],
      ]);
      expect(await pages(store, { status: 'running', limit: 3 })).to.deep.equal([
        ['f09', 'f06', 'f03'],
        ['f02', 'f00'],
      ]);
      expect(await pages(store, { status: 'fail', limit: 3 })).to.deep.equal([['f05']]);
    });

    it('pages by id, so flows that change status between pages move no other flow across a page', async () => {
      const { store } = fx();
      await store.write(flowIds(6).map((id) => created(id)));
      const first = (await store.listFlows({ status: 'running', limit: 2 })).map((h) => h.id);
      expect(first).to.deep.equal(['f05', 'f04']);
      // one flow of the page read and one of the pages to come end
      await store.write([
        { flowId: 'f04', header: header('f04', { status: 'success' }) },
        { flowId: 'f02', header: header('f02', { status: 'success' }) },
      ]);
      const second = (await store.listFlows({ status: 'running', limit: 2, before: 'f04' })).map((h) => h.id);
      expect(second).to.deep.equal(['f03', 'f01']);
      expect((await store.listFlows({ status: 'running', limit: 2, before: 'f01' })).map((h) => h.id)).to.deep.equal(['f00']);
      expect((await store.listFlows({ status: 'success' })).map((h) => h.id)).to.deep.equal(['f04', 'f02']);
    });
  });
}
