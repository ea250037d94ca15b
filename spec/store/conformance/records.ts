import { expect } from 'chai';
import { created, header, rec, useStore, type StoreFactory } from './types.js';

export function records(factory: StoreFactory): void {
  describe('records', () => {
    const fx = useStore(factory);

    it('keeps the order of object keys: the branches of a fork (their stream ids depend on it) and headwaters objects', async () => {
      const { store } = fx();
      const fork = { fork: 'F', branches: { yes: [{ river: 'A' }], no: [{ river: 'B' }], maybe: [{ river: 'C' }] } };
      await store.write([
        {
          ...created('f1'),
          create: { blueprint: { vastflow: 1, requestId: 'req-f1', streams: [fork] } },
          headwaters: { main: { set: { obj: { zeta: 1, alpha: 2, mid: 3 } }, del: [] } },
        },
      ]);
      const flow = await store.getFlow('f1');
      const branches = (flow?.blueprint.streams[0] as { branches: Record<string, unknown> }).branches;
      expect(Object.keys(branches)).to.deep.equal(['yes', 'no', 'maybe']);
      expect(Object.keys(flow?.headwaters['main']?.['obj'] as object)).to.deep.equal(['zeta', 'alpha', 'mid']);
    });

    it('reads back every field recovery needs: header, blueprint, stream records, headwaters', async () => {
      const { store } = fx();
      const error = { code: 'E_RIVER_FAILED' as const, message: 'boom', river: 'A', attempts: 2, cause: 'boom' };
      // records that agree with each other and the drawing: a store may check that they do (LevelStore does)
      const drawing = { vastflow: 1 as const, requestId: 'req-f1', streams: [{ river: 'A' }, { river: 'B', config: { n: 1 } }, { river: 'C' }] };
      await store.write([{ ...created('f1', { reqInfo: { user: 'u1' }, cancelReason: 'why' }), create: { blueprint: drawing } }]);
      await store.write([
        {
          flowId: 'f1',
          header: header('f1', { status: 'running', error, atlantic: { outcome: 'fail', done: false }, reqInfo: { user: 'u1' } }),
          streams: {
            '0': rec({ state: 'success', attempts: 2, startedAt: 1, endedAt: 2, errors: [error] }),
            '1': rec({ state: 'cycling', attempts: 1, cycles: 3, dueAt: 99, phase: 'cycle' }),
            '2': rec({ state: 'init', choice: 'big', touched: ['x', 'y'] }),
          },
          headwaters: { main: { set: { b: [1, { c: null }] }, del: [] }, '2': { set: { x: 'basin' }, del: [] } },
        },
      ]);
      const flow = await store.getFlow('f1');
      expect(flow?.header).to.deep.equal(header('f1', { status: 'running', error, atlantic: { outcome: 'fail', done: false }, reqInfo: { user: 'u1' } }));
      expect(flow?.blueprint.streams).to.deep.equal(drawing.streams);
      expect(flow?.streams['0']).to.deep.equal(rec({ state: 'success', attempts: 2, startedAt: 1, endedAt: 2, errors: [error] }));
      expect(flow?.streams['1']).to.deep.equal(rec({ state: 'cycling', attempts: 1, cycles: 3, dueAt: 99, phase: 'cycle' }));
      expect(flow?.streams['2']?.choice).to.equal('big');
      expect(flow?.streams['2']?.touched).to.deep.equal(['x', 'y']);
      expect(flow?.headwaters).to.deep.equal({ main: { a: 1, b: [1, { c: null }] }, '2': { x: 'basin' } });
    });

    it('keeps headwaters keys with any characters, and deletes them', async () => {
      const { store } = fx();
      await store.write([{ ...created('f1'), headwaters: { main: { set: { 'a!b': 1, 'ü/ä': 2, '': 3 }, del: [] } } }]);
      await store.write([{ flowId: 'f1', headwaters: { main: { set: {}, del: ['a!b'] } } }]);
      expect((await store.getFlow('f1'))?.headwaters['main']).to.deep.equal({ 'ü/ä': 2, '': 3 });
    });

    it('finds a flow by requestId, and nothing for an unknown one', async () => {
      const { store } = fx();
      await store.write([created('f1')]);
      expect(await store.findFlowId('req-f1')).to.equal('f1');
      expect(await store.findFlowId('nope')).to.equal(undefined);
      expect(await store.getFlow('nope')).to.equal(undefined);
    });

    it('lists flows newest first, by status, up to a limit', async () => {
      const { store } = fx();
      // ids begin with the creation time, as the engine makes them
      await store.write([created('f1', { createdAt: 1 }), created('f2', { createdAt: 2, status: 'success' }), created('f3', { createdAt: 3 })]);
      expect((await store.listFlows()).map((h) => h.id)).to.deep.equal(['f3', 'f2', 'f1']);
      expect((await store.listFlows({ status: 'running' })).map((h) => h.id)).to.deep.equal(['f3', 'f1']);
      expect((await store.listFlows({ limit: 1 })).map((h) => h.id)).to.deep.equal(['f3']);
    });
  });
}
