import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import { LevelStore, type LevelDatabase } from '../../lib/store/level-store.js';
import { rejects } from '../helpers/stores.js';
import { storeConformance } from './conformance/index.js';
import { created, rec } from './conformance/types.js';

storeConformance({
  name: 'LevelStore on LevelDB',
  persistent: true,
  shared: false,
  factory: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-store-'));
    const store = LevelStore.at(dir);
    await store.open();
    return { store, reopen: () => LevelStore.at(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  },
});

storeConformance({
  name: 'LevelStore in memory',
  persistent: false,
  shared: false,
  factory: async () => {
    const store = LevelStore.memory();
    await store.open();
    return { store, cleanup: async () => {} };
  },
});

describe('LevelStore on LevelDB, written to by two lanes at once', () => {
  it('declares concurrent writes, and takes writes of different flows at the same time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-store-'));
    const store = LevelStore.at(dir);
    await store.open();
    try {
      expect(store.supports.concurrentWrites).to.equal(true);
      expect(LevelStore.memory().supports.concurrentWrites, 'in memory, smaller batches would only cost more').to.equal(false);
      const ids = Array.from({ length: 20 }, (_, i) => `f${i}`);
      await Promise.all(ids.map((id) => store.write([created(id)])));
      await Promise.all(ids.map((id) => store.write([{ flowId: id, streams: { '0': rec({ state: 'success', attempts: 1 }) } }])));
      for (const id of ids) expect((await store.getFlow(id))?.streams['0']?.state, id).to.equal('success');
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LevelStore on a directory spelled another way', () => {
  it('refuses a second opener with E_STORE_LOCKED whether the path is relative, ends in a slash or goes through a symbolic link', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-store-'));
    const dir = path.join(parent, 'flows');
    fs.symlinkSync(parent, path.join(parent, 'link'));
    const first = LevelStore.at(dir);
    await first.open();
    try {
      for (const spelling of [path.relative(process.cwd(), dir) + '/', `${parent}/./flows`, path.join(parent, 'link', 'flows')]) {
        const err = await rejects(LevelStore.at(spelling).open());
        expect(err, spelling).to.have.property('code', 'E_STORE_LOCKED');
      }
      // the refused opens did not free the lock either
      expect(await rejects(LevelStore.at(dir).open())).to.have.property('code', 'E_STORE_LOCKED');
    } finally {
      await first.close();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('LevelStore over a database closed underneath it', () => {
  // abstract-level's chained batch, which the store writes through, throws at once on a closed
  // database where an array batch rejects: the store must still reject, with its own error
  it('rejects the write (E_STORE_UNAVAILABLE, naming the store, cause: the database error), and every write after it', async () => {
    const db = new MemoryLevel<string, string>();
    const store = new LevelStore(db as unknown as LevelDatabase, { where: 'the test database', persistent: false });
    await store.open();
    await store.write([created('f1')]);
    await db.close();
    const written = store.write([created('f2')]);
    expect(written).to.be.instanceOf(Promise);
    const err = await rejects(written);
    expect(err.code).to.equal('E_STORE_UNAVAILABLE');
    expect(err.message).to.contain('store the test database: a write failed');
    expect((err.cause as { code?: string }).code).to.equal('LEVEL_DATABASE_NOT_OPEN');
    expect(await rejects(store.write([created('f3')]))).to.equal(err);
    await store.close().catch(() => undefined);
  });
});

describe('LevelStore.findFlowId on each kind of database', () => {
  // a database with getSync is read on the calling thread; one without it through getMany (the
  // lookups of one turn together), one with neither key by key: all three must answer alike
  const kinds: Array<[string, (db: MemoryLevel<string, string>) => LevelDatabase]> = [
    ['getSync', (db) => db as unknown as LevelDatabase],
    ['getMany only', (db) => ({ ...bare(db), getMany: (keys, o) => (db as unknown as LevelDatabase).getMany!(keys, o) })],
    ['get only', bare],
  ];
  for (const [kind, wrap] of kinds)
    it(`finds the flow of a requestId, nothing for an unknown one, and names a damaged index record (${kind})`, async () => {
      const db = new MemoryLevel<string, string>();
      const store = new LevelStore(wrap(db), { where: 'the test database', persistent: false });
      await store.open();
      await store.write([created('f1'), created('f2')]);
      expect(await Promise.all([store.findFlowId('req-f1'), store.findFlowId('req-f2'), store.findFlowId('req-f3')])).to.deep.equal(['f1', 'f2', undefined]);
      await db.put('r!req-bad', 'not an id!');
      const err = await rejects(store.findFlowId('req-bad'));
      expect(err.code).to.equal('E_STORE_CORRUPT');
      expect(err.message).to.contain('r!req-bad').and.contain('the test database');
      await store.close();
    });
});

/** `db` as a LevelDatabase with neither getSync nor getMany (and no `supports`). */
function bare(db: MemoryLevel<string, string>): LevelDatabase {
  const level = db as unknown as LevelDatabase;
  return {
    get status() {
      return level.status;
    },
    open: () => level.open(),
    close: () => level.close(),
    get: (key, o) => level.get(key, o),
    batch: (ops, o) => level.batch(ops, o),
    iterator: (o) => level.iterator(o),
  };
}
