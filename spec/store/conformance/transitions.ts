import { expect } from 'chai';
import { created, header, rec, useStore, type StoreFactory } from './types.js';

export function transitions(factory: StoreFactory): void {
  describe('transitions', () => {
    const fx = useStore(factory);

    it('applies the changes of many flows in one write', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b'), created('c')]);
      await store.write([
        { flowId: 'a', streams: { '0': rec({ state: 'success', attempts: 1 }) } },
        { flowId: 'b', streams: { '0': rec({ state: 'running', attempts: 1 }) }, headwaters: { main: { set: { b: 2 }, del: ['a'] } } },
      ]);
      expect((await store.getFlow('a'))?.streams['0']?.state).to.equal('success');
      expect((await store.getFlow('b'))?.headwaters['main']).to.deep.equal({ b: 2 });
      expect((await store.getFlow('c'))?.streams).to.deep.equal({});
    });

    it('writes all of a group or none of it', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      const bad = { flowId: 'b', header: header('b', { reqInfo: { n: 1n } as never }) };
      const err = await store.write([{ flowId: 'a', streams: { '0': rec({ state: 'success' }) } }, bad]).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect((await store.getFlow('a'))?.streams['0']).to.equal(undefined);
      expect(await store.getFlow('b')).to.equal(undefined);
    });

    it("keeps each flow's later write over its earlier one", async () => {
      const { store } = fx();
      await store.write([created('a')]);
      for (const state of ['running', 'cycling', 'success'] as const) await store.write([{ flowId: 'a', streams: { '0': rec({ state }) } }]);
      expect((await store.getFlow('a'))?.streams['0']?.state).to.equal('success');
    });
  });
}
