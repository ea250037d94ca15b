import { expect } from 'chai';
import { Level } from 'level';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../lib/index.js';
import { LevelStore } from '../../lib/store/level-store.js';
import type { FlowHeader } from '../../lib/store/records.js';
import { rejects, silent } from '../helpers/stores.js';
import { header } from './conformance/types.js';

// A directory as vastflow wrote it before the store's second version (format 1): no v!format,
// u!<flow> for each unfinished flow, no index of ended flows.
async function formatOne(dir: string, flows: FlowHeader[]): Promise<void> {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const ops: Array<{ type: 'put'; key: string; value: string }> = [];
  for (const h of flows) {
    const bp = { vastflow: 1, requestId: h.requestId, streams: [{ river: 'Format.A' }] };
    ops.push({ type: 'put', key: `f!${h.id}`, value: JSON.stringify(h) }, { type: 'put', key: `b!${h.id}`, value: JSON.stringify(bp) });
    ops.push({ type: 'put', key: `r!${h.requestId}`, value: h.id });
    if (h.status === 'running' || h.status === 'waiting' || h.atlantic?.done === false) ops.push({ type: 'put', key: `u!${h.id}`, value: '' });
  }
  await db.batch(ops);
  await db.close();
}

// A directory as format 2 laid it out: the header in f!, the blueprint in b!, a record per stream in
// s!, a record per headwaters key in h!, and the status index x!<bucket>!<flow> with empty values.
async function formatTwo(dir: string): Promise<void> {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const bp = (id: string) =>
    JSON.stringify({ vastflow: 1, requestId: `req-${id}`, streams: [{ river: 'Format.A' }, { basin: { streams: [{ river: 'Format.A' }] } }] });
  const puts: Array<[string, string]> = [
    ['v!format', '2'],
    ['f!run', JSON.stringify(header('run', { status: 'running' }))],
    ['b!run', bp('run')],
    ['r!req-run', 'run'],
    ['x!open!run', ''],
    ['s!run!0', JSON.stringify({ state: 'success', attempts: 1, cycles: 0 })],
    ['s!run!1', JSON.stringify({ state: 'running', attempts: 1, cycles: 0 })],
    ['s!run!1.0', JSON.stringify({ state: 'cycling', attempts: 1, cycles: 3, phase: 'cycle' })],
    ['h!run!main!a', '1'],
    ['h!run!main!odd!key', '{"deep":[1,2]}'],
    ['h!run!1!inner', '"basin"'],
    ['f!done', JSON.stringify(header('done', { status: 'success', atlantic: { outcome: 'success', done: true } }))],
    ['b!done', bp('done')],
    ['r!req-done', 'done'],
    ['x!success!done', ''],
    ['s!done!0', JSON.stringify({ state: 'success', attempts: 1, cycles: 0 })],
    ['s!done!1', JSON.stringify({ state: 'success', attempts: 0, cycles: 0 })],
    ['s!done!1.0', JSON.stringify({ state: 'success', attempts: 1, cycles: 0 })],
    ['f!bad', '{"id": oops'],
    ['b!bad', bp('bad')],
    ['x!open!bad', ''],
    ['m!run!0000000000000001', JSON.stringify({ seq: 1, flowId: 'run', at: 5, body: { kind: 'cancel' } })],
  ];
  await db.batch(puts.map(([key, value]) => ({ type: 'put' as const, key, value })));
  await db.close();
}

async function keys(dir: string, prefix: string): Promise<string[]> {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    return await db.keys({ gt: prefix, lt: `${prefix}\xff` }).all();
  } finally {
    await db.close();
  }
}

describe('LevelStore record format', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-format-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('migrates a format-1 directory on open: unfinished flows resume, ended ones list by status', async () => {
    await formatOne(dir, [
      header('f1', { status: 'success', atlantic: { outcome: 'success', done: true } }),
      header('f2', { status: 'running' }),
      header('f3', { status: 'fail', error: { code: 'E_TIMEOUT', message: 'x' } }),
      header('f4', { status: 'success', atlantic: { outcome: 'success', done: false } }),
    ]);
    const store = LevelStore.at(dir);
    await store.open();
    try {
      expect((await store.listUnfinished()).sort()).to.deep.equal(['f2', 'f4']);
      expect((await store.listFlows({ status: 'success' })).map((h) => h.id)).to.deep.equal(['f4', 'f1']);
      expect((await store.listFlows({ status: 'fail' })).map((h) => h.id)).to.deep.equal(['f3']);
      expect((await store.getFlow('f2'))?.header.status).to.equal('running');
    } finally {
      await store.close();
    }
    expect(await keys(dir, 'u!'), 'the format-1 index is gone').to.deep.equal([]);
    expect(await keys(dir, 'v!')).to.deep.equal(['v!format', 'v!journal']);
  });

  it('migrates a format-2 directory on open: each flow becomes its header and one journal entry, read back the same', async () => {
    await formatTwo(dir);
    const store = LevelStore.at(dir);
    await store.open();
    try {
      const run = await store.getFlow('run');
      expect(run?.header).to.include({ id: 'run', status: 'running' });
      expect(run?.blueprint.streams).to.have.length(2);
      expect(run?.streams).to.have.keys(['0', '1', '1.0']);
      expect(run?.streams['1.0']).to.include({ state: 'cycling', cycles: 3 });
      expect(run?.headwaters).to.deep.equal({ main: { a: 1, 'odd!key': { deep: [1, 2] } }, '1': { inner: 'basin' } });
      expect((await store.listFlows({ status: 'success' })).map((h) => h.id)).to.deep.equal(['done']);
      expect((await store.getFlow('done'))?.streams['1.0']?.state).to.equal('success');
      expect(await store.findFlowId('req-run')).to.equal('run');
      expect((await store.listCommands({ flowId: 'run' })).map((c) => c.body.kind)).to.deep.equal(['cancel']);
      expect((await store.listUnfinished()).sort(), 'the unreadable flow stays among the unfinished').to.deep.equal(['bad', 'run']);
      const err = await store.getFlow('bad').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.include({ code: 'E_STORE_CORRUPT' });
      expect((err as Error).message).to.include('flow bad');
    } finally {
      await store.close();
    }
    for (const prefix of ['f!', 'b!', 's!', 'h!']) expect(await keys(dir, prefix), `no ${prefix} keys are left`).to.deep.equal([]);
    expect(await keys(dir, 'j!')).to.have.length(3);
  });

  it('an engine opening a migrated directory resumes its unfinished flows', async () => {
    await formatOne(dir, [header('f1', { status: 'running' })]);
    const engine = await Engine.open({ store: dir, logger: silent, concurrency: 10 });
    try {
      // no class for Format.A is registered: the flow is found, and left untouched with its error
      const snap = await engine.get('f1');
      expect(snap?.status).to.equal('running');
    } finally {
      await engine.close();
    }
  });

  it('refuses a directory of a later format, saying which', async () => {
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    await db.put('v!format', '4');
    await db.close();
    const store = LevelStore.at(dir);
    const err = await store.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.include({ code: 'E_STORE_CORRUPT' });
    expect((err as Error).message)
      .to.match(/format 4/)
      .and.match(/format 3/)
      .and.include(dir);
    expect(store.status).to.equal('closed');
    // the directory is not left locked: a second try gets the same answer, not E_STORE_LOCKED
    const again = await LevelStore.at(dir)
      .open()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(again).to.include({ code: 'E_STORE_CORRUPT' });
  });

  it('refuses a LevelDB database vastflow did not write, naming a key of it, and writes nothing into it', async () => {
    for (const key of ['a', 'c!1', 'user:1', 'y!z', '\xff']) {
      const sub = fs.mkdtempSync(path.join(dir, 'foreign-'));
      const db = new Level<string, string>(sub, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      await db.open();
      await db.batch([
        { type: 'put', key, value: 'theirs' },
        { type: 'put', key: 'r!looks-like-ours', value: 'theirs too' },
      ]);
      await db.close();
      const err = await rejects(Engine.open({ store: sub, logger: silent }));
      expect(err.code, key).to.equal('E_STORE_CORRUPT');
      expect(err.message).to.include('vastflow did not write').and.include(JSON.stringify(key)).and.include(sub);
      const after = new Level<string, string>(sub, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      await after.open();
      expect(await after.keys().all(), key).to.deep.equal([key, 'r!looks-like-ours'].sort());
      await after.close();
    }
  });

  it('refuses a directory whose format record is unreadable, saying so (not that a later version wrote it)', async () => {
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    await db.put('v!format', '{not json');
    await db.close();
    const err = await rejects(LevelStore.at(dir).open());
    expect(err).to.include({ code: 'E_STORE_CORRUPT' });
    expect(err.message).to.include('unreadable').and.include('v!format').and.include('repair').and.not.include('later version');
  });

  it('refuses a path that is a file with E_STORE_UNAVAILABLE saying it is not a directory', async () => {
    const file = path.join(dir, 'a-file');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, 'not a store');
    const err = await rejects(LevelStore.at(file).open());
    expect(err).to.include({ code: 'E_STORE_UNAVAILABLE' });
    expect(err.message).to.include('not a directory').and.include(file);
  });

  it('refuses a path where no directory can be made (under /proc) with E_STORE_UNAVAILABLE, at once', async () => {
    // Node's recursive mkdir never settles there: an open that hung instead of failing
    const where = '/proc/no-such-dir/db';
    const t0 = Date.now();
    const err = await rejects(LevelStore.at(where).open());
    expect(err).to.include({ code: 'E_STORE_UNAVAILABLE' });
    expect(err.message).to.include(where).and.include('cannot be made');
    expect(Date.now() - t0).to.be.below(1000);
  });

  it('makes the missing parents of a new store directory', async () => {
    const nested = path.join(dir, 'a', 'b', 'c');
    const store = LevelStore.at(nested);
    await store.open();
    await store.close();
    expect(fs.statSync(nested).isDirectory()).to.equal(true);
  });

  it('touches nothing until open(): a store made and never opened leaves no directory and holds no lock', async () => {
    const where = path.join(dir, 'never-opened');
    LevelStore.at(where);
    await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(where), 'no directory made').to.equal(false);
    const other = LevelStore.at(where);
    await other.open();
    await other.close();
  });
});
