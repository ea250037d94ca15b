// A redrive of a flow whose compensations ran is E_CONFLICT through the CLI on a store opened
// directly, as engine.redrive and the admin server answer: it used to be recorded, reported as
// "redrive recorded", and dropped by the next engine without a word.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine, Headwaters, River } from '../../lib/index.js';
import { inProcess } from '../helpers/cli.js';
import { levelCommands, runToEnd, silent } from '../helpers/stores.js';

class Charge extends River {
  static riverName = 'RedriveCompensated.Charge';
  flow(hw: Headwaters) {
    hw.put('charged', true);
  }
  compensate() {}
}

class Ship extends River {
  static riverName = 'RedriveCompensated.Ship';
  flow(): void {
    throw new Error('no stock');
  }
}

describe('the vastflow CLI: redrive of a compensated flow', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers E_CONFLICT (exit 1) on a store opened directly and records nothing', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-redrive-'));
    const engine = await Engine.open({ store: dir, logger: silent, classes: [Charge, Ship], closeTimeout: 100 });
    const { id, outcome } = await runToEnd(engine, [new Charge(), new Ship()], new Headwaters('compensated'));
    expect(outcome.status).to.equal('fail');
    await engine.close();
    const redrive = await inProcess(['redrive', 'compensated', '--store', dir]);
    expect(redrive.code, redrive.stdout).to.equal(1);
    expect(redrive.stderr).to.equal(`E_CONFLICT: redrive: flow ${id} was compensated (its compensations ran); start a new flow instead\n`);
    expect(await levelCommands(dir, { flowId: id })).to.deep.equal([]);
  });
});
