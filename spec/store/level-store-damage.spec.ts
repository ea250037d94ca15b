// Damaged LevelDB files, on real LevelDB directories: a table file whose footer is overwritten, and
// bytes overwritten in the middle of the log. The damage stays with the flows it touched.
import { expect } from 'chai';
import { Level } from 'level';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Andes, Engine, Headwaters, River } from '../../lib/index.js';
import { LevelStore } from '../../lib/store/level-store.js';
import type { FlowChange } from '../../lib/store/records.js';
import { rejects, until } from '../helpers/stores.js';
import { header, rec } from './conformance/types.js';

class Step extends River {
  async flow(hw: Headwaters) {
    hw.put('ran', true);
  }
}

const drawing = (id: string) => ({
  vastflow: 1 as const,
  requestId: `req-${id}`,
  headwaters: {},
  streams: [{ river: 'Step' }, { river: 'Step' }, { river: 'Step' }],
});
const create = (id: string): FlowChange => ({ flowId: id, create: { blueprint: drawing(id) }, header: header(id), headwaters: { main: { set: {}, del: [] } } });
/** The three rivers' successes, with a checkpoint large enough to give the write blocks of its own. */
const rivers = (id: string, pad: number): FlowChange => ({
  flowId: id,
  streams: { '0': rec({ state: 'success', attempts: 1 }), '1': rec({ state: 'success', attempts: 1 }), '2': rec({ state: 'success', attempts: 1 }) },
  headwaters: { main: { set: { pad: 'x'.repeat(pad) }, del: [] } },
});
const ended = (id: string): FlowChange => ({ flowId: id, header: header(id, { status: 'success', atlantic: { outcome: 'success', done: true } }) });

const files = (dir: string, ext: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f));

function errorLog(): { logger: ReturnType<typeof pino>; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') messages.push(line);
      done();
    },
  });
  return { logger: pino({ level: 'error' }, stream), messages };
}

describe('LevelStore on damaged files', () => {
  let tmp: string;
  const open: Array<{ close(): Promise<void> }> = [];

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-damage-'));
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Opens a store and closes it after the test. */
  async function storeAt(dir: string): Promise<LevelStore> {
    const store = LevelStore.at(dir);
    await store.open();
    open.push(store);
    return store;
  }

  it('a table file with a bad magic number: coded errors per flow, Engine.open resolves, and LevelStore.repair opens it again', async () => {
    const dir = path.join(tmp, 'db');
    // flows a0..a9 end in one table: LevelDB turns the log into a table file when it opens again
    let store = await storeAt(dir);
    await store.write(Array.from({ length: 10 }, (_, i) => create(`a${i}`)));
    await store.close();
    await (store = await storeAt(dir)).close();
    const first = files(dir, '.ldb');
    expect(first, 'the flows are in a table file').to.have.length(1);
    // flows b0..b9 in a second table, whose footer is then overwritten
    store = await storeAt(dir);
    await store.write(Array.from({ length: 10 }, (_, i) => create(`b${i}`)));
    await store.close();
    await (store = await storeAt(dir)).close();
    const second = files(dir, '.ldb').filter((f) => !first.includes(f));
    expect(second).to.have.length(1);
    const table = fs.readFileSync(second[0]!);
    table.write('0000000000000000', table.length - 8, 'hex'); // the magic number ends every table
    fs.writeFileSync(second[0]!, table);

    store = await storeAt(dir);
    const read = await rejects(store.getFlow('a3'));
    expect(read).to.have.property('code', 'E_STORE_CORRUPT');
    expect(read.message).to.include('flow a3').and.to.include('bad magic number');
    const listed = await rejects(store.listFlows());
    expect(listed).to.have.property('code', 'E_STORE_CORRUPT');
    expect(listed.message).to.include('x!');
    expect(await rejects(store.listUnfinished())).to.have.property('code', 'E_STORE_CORRUPT');
    await store.close();

    const { logger, messages } = errorLog();
    const engine = await Engine.open({ store: dir, logger, classes: [Step] }); // resolves: what it cannot read is logged
    open.push(engine);
    expect(messages.join('\n')).to.include('recovery could not read');
    expect(await rejects(engine.get('a3'))).to.have.property('code', 'E_STORE_CORRUPT');
    await engine.close();

    await LevelStore.repair(dir);
    store = await storeAt(dir);
    // the repair keeps what it could read (the first table) and sets the damaged one aside
    expect((await store.getFlow('a3'))?.header.id).to.equal('a3');
    expect((await store.listUnfinished()).filter((id) => id.startsWith('a'))).to.have.length(10);
  });

  it('bytes overwritten in the middle of the log: a flow whose records disagree is never presented as success', async () => {
    const dir = path.join(tmp, 'db');
    const store = await storeAt(dir);
    const ids = ['f0', 'f1', 'f2'];
    const log = files(dir, '.log')[0]!;
    // three writes, each after the last is in the log: the flows, their rivers' ends, their ends
    await store.write([...ids.map(create), create('g')]);
    const afterCreate = fs.statSync(log).size;
    await store.write(ids.map((id) => rivers(id, 40_000))); // ~120 KB: several 32 KB log blocks of its own
    const afterRivers = fs.statSync(log).size;
    await store.write(ids.map(ended));
    // close() would leave the log as it is, but the next open turns it into a table file; copying
    // the directory while the store is open (every write is in the OS by now) keeps the log to damage
    const copy = path.join(tmp, 'copy');
    fs.cpSync(dir, copy, { recursive: true });
    const damaged = files(copy, '.log')[0]!;
    const bytes = fs.readFileSync(damaged);
    const middle = Math.floor((afterCreate + afterRivers) / 2);
    bytes.fill(0x5a, middle, middle + 100);
    fs.writeFileSync(damaged, bytes);

    // LevelDB opens it without a word, having dropped the rivers' write
    const raw = new Level<string, string>(copy);
    await raw.open();
    expect(await raw.keys({ gt: 'j!f0!', lt: 'j!f0!\xff' }).all(), 'only the entry of its creation is left').to.have.length(1);
    expect(JSON.parse((await raw.get('x!success!f0'))!).status).to.equal('success');
    await raw.close();

    const { logger } = errorLog();
    const engine = await Engine.open({ store: copy, logger, classes: [Step] });
    open.push(engine);
    for (const id of ids) {
      const err = await rejects(engine.get(id));
      expect(err).to.have.property('code', 'E_STORE_CORRUPT');
      expect(err.message)
        .to.include(`flow ${id}`)
        .and.to.match(/the flow is success while stream 0 has not started|is success while stream 0 is init/);
    }
    expect((await engine.list()).map((f) => f.id).sort(), 'the listing goes on').to.deep.equal(['f0', 'f1', 'f2', 'g']);
    // the flow the damage missed is recovered and runs to the end
    await until(async () => (await engine.get('g'))?.status === 'success', 3000, 'flow g recovered and ended');
  });

  it('a requestId index record overwritten: E_STORE_CORRUPT naming it from get and start, not a flow of a made-up id', async () => {
    const dir = path.join(tmp, 'index');
    const engine = await Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Step] });
    const run = await new Andes(engine).drawHeadwaters(new Headwaters('c1')).drawStream(new Step()).start();
    await run.result();
    await engine.close();
    const raw = new Level<string, string>(dir);
    await raw.open();
    await raw.put('r!c1', '{"garbage":');
    await raw.close();

    const next = await Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Step] });
    open.push(next);
    for (const call of [() => next.get('c1'), () => new Andes(next).drawHeadwaters(new Headwaters('c1')).drawStream(new Step()).start()]) {
      const err = await rejects(call());
      expect(err).to.have.property('code', 'E_STORE_CORRUPT');
      expect(err.message).to.include('r!c1').and.to.include('not a flow id');
    }
    // the flow itself is intact, by its id
    expect((await next.get(run.id))?.status).to.equal('success');
  });

  for (const [what, damage] of [
    ['CURRENT names a manifest that is not there', (dir: string) => fs.writeFileSync(path.join(dir, 'CURRENT'), 'MANIFEST-000099\n')],
    ['the manifest is gone', (dir: string) => fs.rmSync(path.join(dir, fs.readFileSync(path.join(dir, 'CURRENT'), 'utf8').trim()))],
  ] as const)
    it(`${what}: Engine.open rejects with E_STORE_CORRUPT and the repair hint (not a full disk), and LevelStore.repair opens it again`, async () => {
      const dir = path.join(tmp, 'manifest');
      const engine = await Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Step] });
      await (await new Andes(engine).drawHeadwaters(new Headwaters('m1')).drawStream(new Step()).start()).result();
      await engine.close();
      damage(dir);
      const err = await rejects(Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Step] }));
      expect(err).to.have.property('code', 'E_STORE_CORRUPT');
      expect(err.message).to.contain('LevelStore.repair').and.not.contain('disk full');
      await LevelStore.repair(dir);
      const repaired = await Engine.open({ store: dir, logger: pino({ level: 'silent' }), classes: [Step] });
      open.push(repaired);
      expect((await repaired.get('m1'))?.status).to.equal('success');
    });
});
