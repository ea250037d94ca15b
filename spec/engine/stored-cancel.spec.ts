// A cancel left in the flow's inbox for the engine that ran it, which stopped before it carried it
// out (killed, paused, closed with an attempt hanging): the engine that runs the flow next starts it
// cancelled. The river that was in flow() does not run again; compensations and Atlantic.fail run
// there. (Before, it ran the river again and carried the cancel out a moment later, through the
// signal of the attempt it had started.) On PostgreSQL, with engine processes: spec/cluster.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Andes, Atlantic, Engine, Headwaters, River, type RiverContext } from '../../lib/index.js';
import { inProcess } from '../helpers/cli.js';
import { silent, until } from '../helpers/stores.js';

let release: () => void = () => undefined;
const compensated: string[] = [];

/** Its first flow() hangs until the test releases it; every call is counted. */
class Provision extends River {
  static riverName = 'StoredCancel.Provision';
  static calls = 0;
  async flow(hw: Headwaters, ctx: RiverContext) {
    Provision.calls++;
    hw.put('provisioned', ctx.attempt);
    if (Provision.calls === 1) await new Promise<void>((resolve) => (release = resolve));
  }
  compensate() {
    compensated.push('Provision');
  }
}

class Book extends River {
  static riverName = 'StoredCancel.Book';
  static calls = 0;
  flow() {
    Book.calls++;
  }
  compensate() {
    compensated.push('Book');
  }
}

const hooks: string[] = [];
class Hooks extends Atlantic {
  static atlanticName = 'StoredCancel.Hooks';
  success() {
    hooks.push('success');
  }
  fail() {
    hooks.push('fail');
  }
}

const classes = [Book, Provision, Hooks];

function reset(): void {
  Provision.calls = Book.calls = 0;
  hooks.length = compensated.length = 0;
}

/** A flow that books, then provisions (which hangs in the first engine). */
function start(engine: Engine, requestId: string) {
  return new Andes(engine).drawHeadwaters(new Headwaters(requestId)).drawStream(new Book(), new Provision()).drawAtlantic(new Hooks()).start();
}

/** What the second engine must have done: no river again, the compensation, the fail hook, the reason kept. */
async function expectCancelledThere(engine: Engine, id: string, reason: string): Promise<void> {
  await until(async () => (await engine.get(id))?.atlantic?.done === true, 5000, 'the flow ended cancelled, its hook run');
  const snap = (await engine.get(id))!;
  expect(snap.status).to.equal('cancelled');
  expect(snap.error?.message).to.include(reason);
  expect(Provision.calls, 'Provision.flow() did not run again').to.equal(1);
  expect(Book.calls, 'Book.flow() did not run again').to.equal(1);
  expect(compensated, 'the river that succeeded compensated').to.deep.equal(['Book']);
  expect(hooks).to.deep.equal(['fail']);
  expect(snap.streams.map((s) => s.state)).to.deep.equal(['compensated', 'fail']);
  expect(snap.streams[1]!.error?.code, 'Provision stopped by the cancel').to.equal('E_CANCELLED');
}

describe('a cancel left for the engine that ran the flow, carried out by the next one', () => {
  let dir: string | undefined;
  afterEach(() => {
    release();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('on LevelDB: the CLI records it while no engine runs; the engine that opens the store starts the flow cancelled', async () => {
    reset();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-stored-cancel-'));
    const a = await Engine.open({ store: dir, logger: silent, classes, closeTimeout: 50 });
    const run = await start(a, 'cancel-left');
    await until(() => Provision.calls === 1, 2000, 'Provision.flow() under way');
    await a.close(); // the attempt is abandoned: the flow is left running, for recovery
    const cancel = await inProcess(['cancel', 'cancel-left', '--reason', 'not wanted', '--store', dir]);
    expect(cancel.code, cancel.stderr).to.equal(0);

    const b = await Engine.open({ store: dir, logger: silent, classes, closeTimeout: 50 });
    try {
      await expectCancelledThere(b, run.id, 'not wanted');
    } finally {
      await b.close();
    }
  });
});
