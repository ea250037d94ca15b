// A redrive an engine records for one that has the flow's classes (on LevelDB: the next engine
// opened on the directory with them) is one ask however often it is made: the flow runs again once,
// not once more each time it fails again.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Andes, Engine, Headwaters, LevelStore, River } from '../../lib/index.js';
import { levelCommands, silent, until } from '../helpers/stores.js';

class AlwaysFails extends River {
  static riverName = 'RecordedRedrive.AlwaysFails';
  static calls = 0;
  async flow() {
    AlwaysFails.calls++;
    throw new Error('down again');
  }
}

describe('a redrive recorded several times for an engine with the classes (LevelDB)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-redrive-'));
    AlwaysFails.calls = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the flow again once, and leaves no redrive behind', async () => {
    const first = await Engine.open({ store: dir, logger: silent, classes: [AlwaysFails] });
    const run = await new Andes(first).drawHeadwaters(new Headwaters('fails')).drawStream(new AlwaysFails()).start();
    expect((await run.result()).status).to.equal('fail');
    await first.close();
    // an engine that no longer registers the class records the redrive: asked four times
    const without = await Engine.open({ store: dir, logger: silent });
    for (let i = 0; i < 4; i++) await without.redrive(run.id);
    await without.close();
    expect(await levelCommands(dir, { flowId: run.id }), 'one redrive recorded').to.have.length(1);

    const again = await Engine.open({ store: dir, logger: silent, classes: [AlwaysFails] });
    try {
      await until(async () => AlwaysFails.calls === 2 && (await again.get(run.id))?.status === 'fail', 3000, 'the redriven flow failing again');
      // time for a second redrive to show, were one left
      await new Promise((r) => setTimeout(r, 300));
      expect(AlwaysFails.calls).to.equal(2);
      expect((await again.get(run.id))!.status).to.equal('fail');
    } finally {
      await again.close();
    }
    expect(await levelCommands(dir, { flowId: run.id })).to.deep.equal([]);
  });

  it('carries out two redrives recorded at the same moment (two recorders racing) as one', async () => {
    const first = await Engine.open({ store: dir, logger: silent, classes: [AlwaysFails] });
    const run = await new Andes(first).drawHeadwaters(new Headwaters('raced')).drawStream(new AlwaysFails()).start();
    expect((await run.result()).status).to.equal('fail');
    await first.close();
    const store = LevelStore.at(dir);
    await store.open();
    for (const at of [1, 2]) await store.addCommand(run.id, { kind: 'redrive' }, Date.now() + at);
    await store.close();

    const again = await Engine.open({ store: dir, logger: silent, classes: [AlwaysFails] });
    try {
      await until(async () => AlwaysFails.calls === 2 && (await again.get(run.id))?.status === 'fail', 3000, 'the redriven flow failing again');
      await new Promise((r) => setTimeout(r, 300));
      expect(AlwaysFails.calls).to.equal(2);
    } finally {
      await again.close();
    }
    expect(await levelCommands(dir, { flowId: run.id })).to.deep.equal([]);
  });
});
