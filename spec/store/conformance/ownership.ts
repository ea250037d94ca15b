import { expect } from 'chai';
import type { Store } from '../../../lib/store/store.js';
import { APPLIED, beat, created, header, ids, needing, rec, useStore, type StoreFactory } from './types.js';

/**
 * At now 100: due flows that do not wait, r1 (no dueAt), r2 (due at 50), edge (due at 100) and hook
 * (ended, its Atlantic hook still to run); waiting flows w1 and w2 (seq 1, 2); and two flows no
 * claim takes: done (ended) and later (due at 500).
 */
async function mixed(store: Store): Promise<void> {
  await store.write([
    created('w2', { status: 'waiting', seq: 2 }),
    created('r1'),
    created('later'),
    created('w1', { status: 'waiting', seq: 1 }),
    created('r2'),
    created('done'),
    created('edge'),
    created('hook'),
  ]);
  await store.write([
    { flowId: 'later', header: header('later', { dueAt: 500 }) },
    { flowId: 'r2', header: header('r2', { dueAt: 50 }) },
    { flowId: 'edge', header: header('edge', { dueAt: 100 }) },
    { flowId: 'done', header: header('done', { status: 'success' }) },
    { flowId: 'hook', header: header('hook', { status: 'success', atlantic: { outcome: 'success', done: false } }) },
  ]);
}

export function ownership(factory: StoreFactory, shared: boolean): void {
  describe('ownership: claims, heartbeats and fencing', () => {
    const fx = useStore(factory);

    it(`declares supports.shared ${shared}`, () => {
      expect(fx().store.supports.shared ?? false).to.equal(shared);
    });

    it('claims due flows that do not wait first, then waiting flows in queue order, up to the limit', async () => {
      const { store } = fx();
      await mixed(store);
      await beat(store, 'A', 100);
      const claimed = ids(await store.claim({ owner: 'A', now: 100, limit: 5 }));
      expect(claimed).to.have.length(5);
      expect(claimed.slice(0, 4).sort()).to.deep.equal(['edge', 'hook', 'r1', 'r2']);
      expect(claimed.slice(4)).to.deep.equal(['w1']);
    });

    it('claims no ended flow and none due later, until it is due', async () => {
      const { store } = fx();
      await mixed(store);
      await beat(store, 'A', 100);
      const claims = await store.claim({ owner: 'A', now: 100, limit: 100 });
      expect(ids(claims).slice(0, 4).sort()).to.deep.equal(['edge', 'hook', 'r1', 'r2']);
      expect(ids(claims).slice(4)).to.deep.equal(['w1', 'w2']);
      for (const c of claims) expect(c.epoch, c.flowId).to.be.a('number');
      const at500 = ids(await store.claim({ owner: 'A', now: 500, limit: 100 }));
      expect(at500).to.include('later');
      expect(at500).not.to.include('done');
    });

    it('claims only the flows named by ids, and none the store does not hold', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b'), created('c')]);
      await beat(store, 'A', 100);
      expect(ids(await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['c', 'nope', 'a'] })).sort()).to.deep.equal(['a', 'c']);
      expect(ids(await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['b'] }))).to.deep.equal(['b']);
    });

    it('claims a flow that needs classes only for an engine that registered all of them', async () => {
      const { store } = fx();
      await store.write([needing(['A', 'B'], created('ab')), needing(['A'], created('plain')), needing(['A', 'B'], created('any'))]);
      await beat(store, 'X', 100);
      expect(ids(await store.claim({ owner: 'X', now: 100, limit: 10, classes: new Set(['A']) }))).to.deep.equal(['plain']);
      expect(await store.claim({ owner: 'X', now: 100, limit: 10, classes: new Set(['B']), ids: ['ab'] })).to.deep.equal([]);
      expect(ids(await store.claim({ owner: 'X', now: 100, limit: 10, classes: new Set(['A', 'B', 'C']), ids: ['ab'] }))).to.deep.equal(['ab']);
      // no classes given: the engine takes any flow
      expect(ids(await store.claim({ owner: 'X', now: 100, limit: 10, ids: ['any'] }))).to.deep.equal(['any']);
    });

    it('gives a new claim a larger epoch, and keeps the epoch when the owner claims a flow it holds', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      await beat(store, 'A', 100);
      const first = await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['a', 'b'] });
      const epochOf = (id: string) => first.find((c) => c.flowId === id)!.epoch;
      expect(await store.claim({ owner: 'A', now: 200, limit: 10, ids: ['a'] })).to.deep.equal([{ flowId: 'a', epoch: epochOf('a') }]);
      await store.release('A', ['a']);
      const [again] = await store.claim({ owner: 'A', now: 300, limit: 10, ids: ['a'] });
      expect(again?.flowId).to.equal('a');
      expect(again!.epoch).to.be.greaterThan(epochOf('a'));
      // releasing a leaves the claim on b as it was
      expect(await store.claim({ owner: 'A', now: 300, limit: 10, ids: ['b'] })).to.deep.equal([{ flowId: 'b', epoch: epochOf('b') }]);
    });

    it('lists a worker, with its running count, until its lease is over, and a later heartbeat renews it', async () => {
      const { store } = fx();
      await store.heartbeat({ id: 'A', now: 100, leaseMs: 1000, running: 2, held: [] });
      await store.heartbeat({ id: 'B', now: 300, leaseMs: 100, running: 0, held: [] });
      const at = async (now: number) => (await store.workers(now)).sort((x, y) => (x.id < y.id ? -1 : 1));
      const a = { id: 'A', heartbeatAt: 100, running: 2 };
      const b = { id: 'B', heartbeatAt: 300, running: 0 };
      expect(await at(350)).to.deep.equal([a, b]);
      expect(await at(400), 'alive until now + leaseMs').to.deep.equal([a, b]);
      expect(await at(401)).to.deep.equal([a]);
      expect(await at(1101)).to.deep.equal([]);
      await store.heartbeat({ id: 'A', now: 1000, leaseMs: 1000, running: 5, held: [] });
      expect(await at(1500)).to.deep.equal([{ id: 'A', heartbeatAt: 1000, running: 5 }]);
    });

    it('answers a heartbeat of flows the engine holds with none lost', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      await beat(store, 'A', 100);
      await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['a', 'b'] });
      expect(await beat(store, 'A', 200, 1000, ['a', 'b'])).to.deep.equal({ lost: [] });
    });

    it('removes a worker that leaves, and releases its flows', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await beat(store, 'A', 100);
      await beat(store, 'B', 100);
      const [first] = await store.claim({ owner: 'A', now: 100, limit: 1, ids: ['a'] });
      await store.leave('A');
      expect((await store.workers(200)).map((w) => w.id)).to.deep.equal(['B']);
      await beat(store, 'A', 200);
      const [again] = await store.claim({ owner: 'A', now: 200, limit: 1, ids: ['a'] });
      expect(again!.epoch, 'a new claim, not the one it held').to.be.greaterThan(first!.epoch);
    });

    if (shared) sharedStore(fx);
    else singleEngine(fx);
  });
}

function sharedStore(fx: () => { store: Store }): void {
  describe('on a shared store', () => {
    /** A claims a and c at 100 (lease until 1100) and loses a to B at 1101; A beats again at 1102. */
    async function takeOver(store: Store): Promise<{ stale: number; taken: number; c: number }> {
      await store.write([created('a'), created('c')]);
      await beat(store, 'A', 100);
      const [a] = await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['a'] });
      await beat(store, 'B', 1101);
      const [taken] = await store.claim({ owner: 'B', now: 1101, limit: 10, ids: ['a'] });
      expect(taken?.flowId).to.equal('a');
      await beat(store, 'A', 1102);
      const [c] = await store.claim({ owner: 'A', now: 1102, limit: 10, ids: ['c'] });
      expect(c?.flowId).to.equal('c');
      return { stale: a!.epoch, taken: taken!.epoch, c: c!.epoch };
    }

    it('does not let a second owner claim or list as due a flow a live owner holds', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await beat(store, 'A', 100);
      expect(ids(await store.claim({ owner: 'A', now: 100, limit: 10 }))).to.deep.equal(['a']);
      await beat(store, 'B', 500);
      expect(await store.claim({ owner: 'B', now: 500, limit: 10 })).to.deep.equal([]);
      expect(await store.claim({ owner: 'B', now: 500, limit: 10, ids: ['a'] })).to.deep.equal([]);
      expect(await store.listDue(500, 10)).to.deep.equal([]);
      expect(await store.listDue(1101, 10), 'once its lease is over').to.deep.equal(['a']);
    });

    it("lets a second owner claim the flow once the first owner's last lease is over, with a larger epoch", async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await beat(store, 'A', 100);
      const [first] = await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['a'] });
      await beat(store, 'A', 900); // alive until 1900 now
      await beat(store, 'B', 1101);
      expect(await store.claim({ owner: 'B', now: 1101, limit: 10 })).to.deep.equal([]);
      await beat(store, 'B', 1900);
      expect(await store.claim({ owner: 'B', now: 1900, limit: 10, ids: ['a'] }), 'alive until now + leaseMs').to.deep.equal([]);
      await beat(store, 'B', 1901);
      const [taken] = await store.claim({ owner: 'B', now: 1901, limit: 10 });
      expect(taken?.flowId).to.equal('a');
      expect(taken!.epoch).to.be.greaterThan(first!.epoch);
    });

    it('drops a fenced change whole and names it, while the rest of the write lands', async () => {
      const { store } = fx();
      const { stale, taken, c } = await takeOver(store);
      const cmd = await store.addCommand('a', { kind: 'redrive' }, 50);
      const result = await store.write([
        {
          flowId: 'a',
          fence: { owner: 'A', epoch: stale },
          consumed: [cmd!.seq],
          header: header('a', { updatedAt: 2000, reqInfo: { by: 'A' } }),
          streams: { '0': rec({ state: 'running', attempts: 1 }) },
          headwaters: { main: { set: { x: 1 }, del: ['a'] } },
        },
        {
          flowId: 'c',
          fence: { owner: 'A', epoch: c },
          header: header('c', { updatedAt: 2000 }),
          streams: { '0': rec({ state: 'running', attempts: 1 }) },
          headwaters: { main: { set: { x: 1 }, del: [] } },
        },
      ]);
      expect(result).to.deep.equal({ fenced: ['a'], duplicates: [] });
      expect(await store.getFlow('a')).to.deep.include({ header: header('a'), streams: {}, headwaters: { main: { a: 1 } } });
      expect(await store.listCommands({ flowId: 'a' })).to.deep.equal([cmd]);
      const landed = await store.getFlow('c');
      expect(landed?.header).to.deep.equal(header('c', { updatedAt: 2000 }));
      expect(landed?.streams['0']?.state).to.equal('running');
      expect(landed?.headwaters['main']).to.deep.equal({ a: 1, x: 1 });
      // the new owner's write lands
      expect(await store.write([{ flowId: 'a', fence: { owner: 'B', epoch: taken }, header: header('a', { updatedAt: 3000 }) }])).to.deep.equal(APPLIED);
      expect((await store.getFlow('a'))?.header.updatedAt).to.equal(3000);
    });

    it('fences a write that carries an earlier epoch of the same owner', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await beat(store, 'A', 100);
      const [first] = await store.claim({ owner: 'A', now: 100, limit: 1, ids: ['a'] });
      await store.release('A', ['a']);
      const [second] = await store.claim({ owner: 'A', now: 200, limit: 1, ids: ['a'] });
      expect(second!.epoch).to.be.greaterThan(first!.epoch);
      const result = await store.write([{ flowId: 'a', fence: { owner: 'A', epoch: first!.epoch }, header: header('a', { updatedAt: 2000 }) }]);
      expect(result).to.deep.equal({ fenced: ['a'], duplicates: [] });
      expect((await store.getFlow('a'))?.header.updatedAt).to.equal(1000);
    });

    it('gives the creator of a flow its claim at once', async () => {
      const { store } = fx();
      await beat(store, 'A', 100);
      expect(await store.write([{ ...created('a'), fence: { owner: 'A', epoch: 1 } }])).to.deep.equal(APPLIED);
      await beat(store, 'B', 200);
      expect(await store.claim({ owner: 'B', now: 200, limit: 10 })).to.deep.equal([]);
      expect(await store.claim({ owner: 'B', now: 200, limit: 10, ids: ['a'] })).to.deep.equal([]);
      expect(await store.write([{ flowId: 'a', fence: { owner: 'A', epoch: 1 }, header: header('a', { updatedAt: 2000 }) }])).to.deep.equal(APPLIED);
      expect((await store.getFlow('a'))?.header.updatedAt).to.equal(2000);
    });

    it('answers a heartbeat with the held flows another owner took', async () => {
      const { store } = fx();
      await takeOver(store);
      expect(await beat(store, 'A', 1200, 1000, ['a', 'c'])).to.deep.equal({ lost: ['a'] });
      expect(await beat(store, 'B', 1200, 1000, ['a'])).to.deep.equal({ lost: [] });
    });

    it('lets another owner claim the flows of a worker that left at once', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await beat(store, 'A', 100);
      const [first] = await store.claim({ owner: 'A', now: 100, limit: 1 });
      await store.leave('A');
      await beat(store, 'B', 200);
      const [taken] = await store.claim({ owner: 'B', now: 200, limit: 1 });
      expect(taken?.flowId).to.equal('a');
      expect(taken!.epoch).to.be.greaterThan(first!.epoch);
    });

    it('does not create a flow whose requestId names another one, and names it in duplicates', async () => {
      const { store } = fx();
      await store.write([created('a', { reqInfo: { n: 1 } })]);
      const dup = created('b', { requestId: 'req-a', reqInfo: { n: 2 } });
      const result = await store.write([{ ...dup, create: { blueprint: { ...dup.create!.blueprint, requestId: 'req-a' } } }, created('c')]);
      expect(result).to.deep.equal({ fenced: [], duplicates: ['b'] });
      expect(await store.getFlow('b')).to.equal(undefined);
      expect(await store.findFlowId('req-a')).to.equal('a');
      expect(await store.getFlow('a')).to.deep.include({ header: header('a', { reqInfo: { n: 1 } }), headwaters: { main: { a: 1 } } });
      expect(await store.findFlowId('req-c')).to.equal('c');
      expect((await store.listUnfinished()).sort()).to.deep.equal(['a', 'c']);
    });
  });
}

function singleEngine(fx: () => { store: Store }): void {
  describe('on a store owned by its one engine', () => {
    it('applies writes whatever their fence, and answers empty fenced and duplicates', async () => {
      const { store } = fx();
      expect(await store.write([{ ...created('a'), fence: { owner: 'A', epoch: 1 } }])).to.deep.equal(APPLIED);
      await beat(store, 'A', 100);
      const [first] = await store.claim({ owner: 'A', now: 100, limit: 1, ids: ['a'] });
      await store.release('A', ['a']);
      await store.claim({ owner: 'A', now: 200, limit: 1, ids: ['a'] });
      const stale = await store.write([{ flowId: 'a', fence: { owner: 'A', epoch: first!.epoch }, header: header('a', { updatedAt: 2000 }) }]);
      expect(stale).to.deep.equal(APPLIED);
      expect((await store.getFlow('a'))?.header.updatedAt).to.equal(2000);
      const stranger = await store.write([
        { flowId: 'a', fence: { owner: 'nobody', epoch: 99 }, header: header('a', { updatedAt: 3000 }), streams: { '0': rec({ state: 'running' }) } },
      ]);
      expect(stranger).to.deep.equal(APPLIED);
      expect(await store.getFlow('a')).to.deep.include({ header: header('a', { updatedAt: 3000 }), streams: { '0': rec({ state: 'running' }) } });
    });
  });
}
