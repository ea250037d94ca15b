// LevelStore's format 3: a flow is its header plus a journal of what each write changed. These
// specs hold the journal to what it promises: few records per step, a bounded length, and its
// order across processes whatever the clock does.
import { expect } from 'chai';
import { Level } from 'level';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Andes, Atlantic, Engine, Headwaters, ParallelRiver, River, type RiverAttr } from '../../lib/index.js';
import { LevelStore } from '../../lib/store/level-store.js';
import { hookedLevel } from '../helpers/level.js';
import type { FlowChange } from '../../lib/store/records.js';
import { silent } from '../helpers/stores.js';
import { created, header, rec } from './conformance/types.js';

class Durable extends River<{ key: string }> {
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  flow(hw: Headwaters) {
    hw.put(this.config!.key, 'x'.repeat(100));
  }
}

class Done extends Atlantic {
  success(hw: Headwaters) {
    hw.put('done', true);
  }
}

async function journalKeys(dir: string, id: string): Promise<string[]> {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    return await db.keys({ gt: `j!${id}!`, lt: `j!${id}!\xff` }).all();
  } finally {
    await db.close();
  }
}

describe('LevelStore journal (format 3)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-journal-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a diamond flow of durable rivers with a hook costs 8 records in 4 writes: one per step, and the header where it changed', async () => {
    const batches: string[][] = [];
    const counted = hookedLevel(dir, (ops, write) => {
      batches.push(ops.map((op) => `${op.type} ${op.key.slice(0, 2)}`));
      return write();
    });
    const engine = await Engine.open({ store: new LevelStore(counted, { where: dir }), logger: silent, classes: [Durable, Done] });
    try {
      batches.length = 0; // the store's own first record (its format) is not the flow's
      const run = await new Andes(engine)
        .drawHeadwaters(new Headwaters('diamond'))
        .drawStream(new ParallelRiver().append(new Durable({ key: 'a' })).append(new Durable({ key: 'b' })))
        .drawStream(new Durable({ key: 'c' }))
        .drawAtlantic(new Done())
        .start();
      expect((await run.result()).status).to.equal('success');
      const records = batches.flat().filter((op) => op !== 'put v!');
      expect(records, JSON.stringify(batches)).to.have.length(8);
      expect(batches).to.have.length(4);
      const snap = await engine.get(run.id);
      expect(snap?.streams.map((s) => s.state)).to.deep.equal(['success', 'success', 'success', 'success']);
    } finally {
      await engine.close();
    }
    const store = LevelStore.at(dir);
    await store.open();
    try {
      const flow = (await store.listFlows({ status: 'success' }))[0]!;
      const stored = await store.getFlow(flow.id);
      expect(Object.keys(stored!.headwaters.main!).sort()).to.deep.equal(['a', 'b', 'c']);
    } finally {
      await store.close();
    }
  });

  it('a river that polls for long keeps its journal short, and its flow reads back whole', async () => {
    const store = LevelStore.at(dir);
    await store.open();
    await store.write([created('p')]);
    for (let i = 1; i <= 100; i++) {
      const change: FlowChange = {
        flowId: 'p',
        streams: { '0': rec({ state: 'cycling', attempts: 1, cycles: i, phase: 'cycle' }) },
        headwaters: { main: { set: { polled: i, [`k${i}`]: i }, del: i > 1 ? [`k${i - 1}`] : [] } },
      };
      await store.write([change]);
    }
    await store.close(); // waits for the folds under way
    expect((await journalKeys(dir, 'p')).length, 'folded every 32 polls').to.be.below(40);
    const again = LevelStore.at(dir);
    await again.open();
    try {
      const flow = await again.getFlow('p');
      expect(flow?.streams['0']).to.include({ state: 'cycling', cycles: 100 });
      expect(flow?.headwaters.main).to.deep.equal({ a: 1, polled: 100, k100: 100 });
      expect(flow?.blueprint.streams).to.have.length(2);
    } finally {
      await again.close();
    }
  });

  it('reading an unfinished flow with a long journal folds it into one entry that reads back the same', async () => {
    const store = LevelStore.at(dir);
    await store.open();
    await store.write([created('f')]);
    for (let i = 0; i < 80; i++) await store.write([{ flowId: 'f', headwaters: { main: { set: { [`k${i % 7}`]: i }, del: i === 79 ? ['a'] : [] } } }]);
    await store.write([{ flowId: 'f', streams: { '0': rec({ state: 'success', attempts: 1 }) } }]);
    const before = await store.getFlow('f');
    await store.close();
    expect(await journalKeys(dir, 'f')).to.have.length(1);
    const again = LevelStore.at(dir);
    await again.open();
    try {
      expect(await again.getFlow('f')).to.deep.equal(before);
      expect(before?.headwaters.main).to.not.have.property('a');
      expect(before?.headwaters.main).to.include({ k2: 79, k1: 78 });
    } finally {
      await again.close();
    }
  });

  it("keeps a flow's journal in order across processes when the clock went back between them", async () => {
    const realNow = Date.now;
    const store = LevelStore.at(dir);
    await store.open();
    await store.write([created('c')]);
    await store.write([{ flowId: 'c', streams: { '0': rec({ state: 'running', attempts: 1, phase: 'flow' }) } }]);
    await store.close();
    Date.now = () => realNow() - 86_400_000;
    try {
      const again = LevelStore.at(dir);
      await again.open();
      await again.write([{ flowId: 'c', header: header('c'), streams: { '0': rec({ state: 'success', attempts: 1 }) } }]);
      const flow = await again.getFlow('c');
      await again.close();
      expect(flow?.streams['0']?.state, 'the later write wins').to.equal('success');
    } finally {
      Date.now = realNow;
    }
  });
});
