import { expect } from 'chai';
import { WriteQueue } from '../../lib/engine/write-queue.js';
import { LevelStore } from '../../lib/store/level-store.js';
import type { FlowChange, FlowHeader } from '../../lib/store/records.js';
import { RecordingStore } from '../helpers/stores.js';

const header = (id: string, status: FlowHeader['status'] = 'running'): FlowHeader => ({
  id,
  requestId: `req-${id}`,
  status,
  seq: 1,
  createdAt: 1,
  updatedAt: 1,
});

const create = (id: string): FlowChange => ({ flowId: id, create: { blueprint: { vastflow: 1, streams: [] } }, header: header(id) });
/** A real memory store that records the writes it is given. */
function countingStore(): { store: RecordingStore; writes: FlowChange[][] } {
  const store = new RecordingStore(LevelStore.memory());
  return { store, writes: store.writes };
}

describe('WriteQueue', () => {
  it('groups the changes of many flows pushed in one turn into one store write', async () => {
    const { store, writes } = countingStore();
    await store.open();
    const q = new WriteQueue(store);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => q.push({ flowId: `f${i}`, create: { blueprint: { vastflow: 1, streams: [] } }, header: header(`f${i}`) })),
    );
    expect(writes).to.have.length(1);
    expect(writes[0]).to.have.length(50);
    expect((await store.getFlow('f49'))?.header.requestId).to.equal('req-f49');
    await store.close();
  });

  it('gathers changes pushed while a write is in flight into the next write, in order', async () => {
    const { store, writes } = countingStore();
    await store.open();
    const q = new WriteQueue(store);
    const first = q.push({ flowId: 'a', header: header('a') });
    await new Promise((r) => setImmediate(r)); // the first write is now in flight
    const later = [q.push({ flowId: 'b', header: header('b') }), q.push({ flowId: 'c', header: header('c') })];
    await Promise.all([first, ...later]);
    expect(writes.map((w) => w.map((c) => c.flowId))).to.deep.equal([['a'], ['b', 'c']]);
    await store.close();
  });

  it('merges changes to one flow in one batch, latest first, headwaters sets and deletes combined', async () => {
    const { store, writes } = countingStore();
    await store.open();
    const q = new WriteQueue(store);
    void q.push({
      flowId: 'a',
      create: { blueprint: { vastflow: 1, streams: [{ river: 'R' }] } },
      header: header('a'),
      headwaters: { main: { set: { x: 1, y: 1 }, del: [] } },
    });
    void q.push({ flowId: 'a', streams: { '0': { state: 'running', attempts: 1, cycles: 0 } }, headwaters: { main: { set: { z: 1 }, del: ['x'] } } });
    await q.push({ flowId: 'a', streams: { '0': { state: 'success', attempts: 1, cycles: 0 } }, headwaters: { main: { set: { x: 2 }, del: ['y'] } } });
    expect(writes).to.have.length(1);
    const flow = await store.getFlow('a');
    expect(flow?.streams['0']?.state).to.equal('success');
    expect(flow?.headwaters['main']).to.deep.equal({ x: 2, z: 1 });
    await store.close();
  });

  it('rejects the pushers of a failed batch with E_STORE_UNAVAILABLE, and every later push, writing nothing more', async () => {
    const { store, writes } = countingStore();
    await store.open();
    const disk = new Error('disk full');
    store.failWith = disk;
    const failures: Error[] = [];
    const q = new WriteQueue(store, 2, (err) => failures.push(err));
    const err = await q.push(create('a')).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(err).to.have.property('code', 'E_STORE_UNAVAILABLE');
    expect(err?.cause).to.equal(disk);
    expect(failures, 'told once, with the same error').to.deep.equal([err]);
    // the store would take writes again, but a change pushed after a lost one must not land without it
    store.failWith = undefined;
    const later = await q.push(create('b')).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(later).to.equal(err);
    await q.flush();
    expect(writes, 'nothing written after the failure').to.have.length(0);
    expect(await store.getFlow('b')).to.equal(undefined);
    expect(failures).to.have.length(1);
    await store.close();
  });

  it("with two lanes, writes the batches of different flows at the same time and each flow's in order", async () => {
    const { store, writes } = countingStore();
    await store.open();
    const q = new WriteQueue(store, 2);
    // 'a' and 'b' end in characters of different parity: they fall in different lanes
    store.holding = true;
    const a1 = q.push(create('a'));
    const b1 = q.push(create('b'));
    await new Promise((r) => setImmediate(r));
    expect(
      writes.map((w) => w.map((c) => c.flowId)),
      'both lanes write while neither has landed',
    ).to.deep.equal([['a'], ['b']]);
    const a2 = q.push({ flowId: 'a', header: header('a', 'success') });
    await new Promise((r) => setImmediate(r));
    expect(writes, "a's next change waits for its lane's write in flight").to.have.length(2);
    store.holding = false;
    store.letGo();
    await Promise.all([a1, b1, a2]);
    expect(writes.map((w) => w.map((c) => c.flowId))).to.deep.equal([['a'], ['b'], ['a']]);
    expect((await store.getFlow('a'))?.header.status).to.equal('success');
    await q.flush();
    await store.close();
  });

  it('flush() waits for every write pushed so far', async () => {
    const { store } = countingStore();
    await store.open();
    const q = new WriteQueue(store);
    for (let i = 0; i < 10; i++) void q.push({ flowId: `f${i}`, create: { blueprint: { vastflow: 1, streams: [] } }, header: header(`f${i}`) });
    await q.flush();
    expect(await store.listUnfinished()).to.have.length(10);
    await store.close();
  });
});
