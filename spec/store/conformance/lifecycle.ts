import { expect } from 'chai';
import { created, useStore, type StoreFactory } from './types.js';

export function lifecycle(factory: StoreFactory, persistent: boolean, shared: boolean): void {
  describe('lifecycle', () => {
    const fx = useStore(factory);

    it('is open after open(), closed after close(), and close() twice is fine', async () => {
      const { store } = fx();
      expect(store.status).to.equal('open');
      await store.close();
      expect(store.status).to.equal('closed');
      await store.close();
    });

    it('rejects every call after close() with E_CLOSED', async () => {
      const { store } = fx();
      await store.close();
      for (const call of <Array<() => Promise<unknown>>>[
        () => store.write([created('a')]),
        () => store.getFlow('a'),
        () => store.findFlowId('r'),
        () => store.listFlows(),
        () => store.listUnfinished(),
        () => store.listWaiting(),
        () => store.listDue(0, 10),
        () => store.claim({ owner: 'A', now: 0, limit: 10 }),
        () => store.release('A', ['a']),
        () => store.heartbeat({ id: 'A', now: 0, leaseMs: 1000, running: 0, held: [] }),
        () => store.workers(0),
        () => store.leave('A'),
        () => store.addCommand('a', { kind: 'redrive' }, 0),
        () => store.listCommands(),
      ]) {
        const err = await Promise.resolve()
          .then(call)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).to.have.property('code', 'E_CLOSED');
      }
    });

    if (!persistent) return;

    it('keeps everything across close and reopen', async () => {
      const { store, reopen } = fx();
      if (reopen === undefined) throw new Error('a persistent store fixture must give reopen()');
      await store.write([created('a', { status: 'waiting', seq: 5 })]);
      await store.close();
      const again = reopen();
      await again.open();
      try {
        expect((await again.getFlow('a'))?.headwaters['main']).to.deep.equal({ a: 1 });
        expect(await again.listWaiting()).to.deep.equal(['a']);
        expect(await again.findFlowId('req-a')).to.equal('a');
      } finally {
        await again.close();
      }
    });

    if (shared) {
      it('lets a second opener use the same data at once', async () => {
        const { store, reopen } = fx();
        if (reopen === undefined) throw new Error('a persistent store fixture must give reopen()');
        const second = reopen();
        await second.open();
        try {
          await store.write([created('a', { status: 'waiting', seq: 5 })]);
          expect(await second.listWaiting()).to.deep.equal(['a']);
          expect(await second.findFlowId('req-a')).to.equal('a');
        } finally {
          await second.close();
        }
      });
      return;
    }

    it('refuses a second opener of the same data with E_STORE_LOCKED', async () => {
      const { reopen } = fx();
      if (reopen === undefined) throw new Error('a persistent store fixture must give reopen()');
      const second = reopen();
      const err = await second.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.have.property('code', 'E_STORE_LOCKED');
    });
  });
}
