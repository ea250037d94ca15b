// Flows the store holds that this engine did not start: found by requestId, started again by
// requestId (FlowRun.existing), cancelled on an engine opened with recover: false, and a flow whose
// class this engine lacks.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Andes, Engine, Headwaters, River, type RegistrableClass, type RiverAttr } from '../../lib/index.js';
import { RecordingAtlantic, rejects, silent, startFlow, until } from '../helpers/stores.js';

class Waits extends River {
  static calls = 0;
  update(attr: RiverAttr) {
    attr.retryTimes = 1;
    attr.retryInterval = '1h';
  }
  flow(): void {
    Waits.calls++;
    throw new Error('not yet');
  }
}

class Ghost extends River {
  flow(hw: Headwaters) {
    hw.put('ghost', true);
  }
}

class Broken extends River {
  static calls = 0;
  flow(): void {
    Broken.calls++;
    throw new Error('down');
  }
}

class Quick extends River {
  flow(hw: Headwaters) {
    hw.put('quick', true);
  }
}

describe('flows the store already holds', () => {
  let dir: string;
  const engines: Engine[] = [];
  const open = async (options: { recover?: boolean; classes?: RegistrableClass[]; logger?: Logger } = {}) => {
    const engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 200, classes: [Waits, Quick, RecordingAtlantic], ...options });
    engines.push(engine);
    return engine;
  };
  beforeEach(() => {
    Waits.calls = 0;
    Broken.calls = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-existing-'));
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('get() finds a flow by its requestId as well as by its id', async () => {
    const engine = await open();
    const run = await startFlow(engine, [new Quick()], new Headwaters('order-77'));
    await run.result();
    const byId = await engine.get(run.id);
    const byRequest = await engine.get('order-77');
    expect(byRequest).to.deep.equal(byId);
    expect(byRequest!.id).to.equal(run.id);
    expect(await engine.get('order-78')).to.equal(undefined);
  });

  it('start() of a requestId the store holds says so: run.existing, the same id, the stored outcome', async () => {
    const engine = await open();
    const first = await startFlow(engine, [new Quick()], new Headwaters('order-1'));
    expect(first.existing).to.equal(false);
    await first.result();
    const again = await startFlow(engine, [new Waits()], new Headwaters('order-1'));
    expect(again.existing).to.equal(true);
    expect(again.id).to.equal(first.id);
    expect((await again.result()).headwaters).to.deep.equal({ quick: true });
    expect(Waits.calls, 'the drawing passed the second time was not used').to.equal(0);
  });

  it('cancel() on an engine opened with recover: false ends a running flow it holds in the store', async () => {
    const first = await open();
    const atlantic = new RecordingAtlantic();
    const run = await startFlow(first, [new Waits()], new Headwaters('later'), atlantic);
    await until(() => Waits.calls === 1);
    await first.close();

    const idle = await open({ recover: false });
    expect((await idle.get(run.id))!.status).to.equal('running');
    await idle.cancel(run.id, 'no longer needed');
    const snap = await idle.get(run.id);
    expect(snap!.status).to.equal('cancelled');
    expect(snap!.error).to.include({ code: 'E_CANCELLED' });
    expect(snap!.atlantic).to.deep.include({ hook: 'fail', done: true });
    expect(Waits.calls, 'the river is not run again to cancel it').to.equal(1);
  });

  it('cancel() of a flow whose class this engine lacks is recorded and shown as pending, then honoured', async () => {
    const first = await open({ classes: [Waits, Ghost, RecordingAtlantic] });
    const run = await new Andes(first).drawHeadwaters(new Headwaters('ghostly')).drawStream(new Waits(), new Ghost()).start();
    await until(() => Waits.calls === 1);
    await first.close();

    const blind = await open({ classes: [Waits] });
    await blind.cancel(run.id, 'operator');
    const pending = await blind.get(run.id);
    expect(pending!.status).to.equal('running');
    expect(pending!.pendingCancel).to.deep.equal({ reason: 'operator' });
    await blind.close();

    const seeing = await open({ classes: [Waits, Ghost, RecordingAtlantic] });
    await until(async () => (await seeing.get(run.id))!.status === 'cancelled', 2000, 'the cancel honoured');
    expect((await seeing.get(run.id))!.pendingCancel).to.equal(undefined);
  });

  it('redrive() of a failed flow whose class this engine lacks is recorded, then carried out by an engine that has it', async () => {
    const first = await open({ classes: [Broken, Ghost] });
    const run = await new Andes(first).drawHeadwaters(new Headwaters('ghost-redrive')).drawStream(new Ghost(), new Broken()).start();
    expect((await run.result()).status).to.equal('fail');
    await first.close();

    const blind = await open({ classes: [Broken] });
    const again = await blind.redrive(run.id);
    expect(again.id).to.equal(run.id);
    expect((await blind.get(run.id))!.status, 'left failed until an engine with the class carries it out').to.equal('fail');
    expect(Broken.calls, 'none of its rivers ran here').to.equal(1);
    await blind.close();

    const seeing = await open({ classes: [Broken, Ghost] });
    await until(() => Broken.calls === 2, 2000, 'the redriven flow ran its failed river again');
    await until(async () => (await seeing.get(run.id))!.status === 'fail', 2000, 'the redriven flow ended again');
  });

  it('start() of a requestId whose stored flow needs a class this engine lacks gives that flow, left in the store with the class logged', async () => {
    const first = await open({ classes: [Waits, Ghost] });
    const run = await new Andes(first).drawHeadwaters(new Headwaters('ghostly')).drawStream(new Waits(), new Ghost()).start();
    await until(() => Waits.calls === 1);
    await first.close();

    const logged: string[] = [];
    const logger = pino({ level: 'error' }, new Writable({ write: (c, _e, cb) => (logged.push(c.toString()), cb()) }));
    const blind = await open({ classes: [Waits], logger });
    const again = await new Andes(blind).drawHeadwaters(new Headwaters('ghostly')).drawStream(new Waits()).start();
    expect(again.id).to.equal(run.id);
    expect(again.existing).to.equal(true);
    expect(logged.join('')).to.contain('Ghost');
    expect((await blind.get(run.id))!.status, 'left as it was').to.equal('running');
    expect(Waits.calls, 'none of its rivers ran here').to.equal(1);
  });

  it('starts of one requestId at the same time make one flow: one run is new, the others existing', async () => {
    const engine = await open();
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => new Andes(engine).drawHeadwaters(new Headwaters('at-once')).drawStream(new Quick()).start()),
    );
    expect(new Set(runs.map((r) => r.id)).size).to.equal(1);
    expect(runs.map((r) => r.existing)).to.deep.equal([false, true, true, true, true]);
    expect((await runs[4]!.result()).headwaters).to.deep.equal({ quick: true });
  });

  it('start() of a requestId of an unfinished flow no engine runs (recover: false) runs it here', async () => {
    const first = await open();
    const run = await startFlow(first, [new Quick(), new Waits()], new Headwaters('resume-me'));
    await until(() => Waits.calls === 1);
    await first.close();
    Waits.calls = 0;

    const idle = await open({ recover: false });
    const again = await startFlow(idle, [new Quick(), new Waits()], new Headwaters('resume-me'));
    expect(again).to.include({ id: run.id, existing: true });
    await until(async () => (await idle.get(run.id))!.streams[1]!.dueAt !== undefined, 2000, 'the flow parked in its retry here');
    await idle.cancel(run.id);
    expect((await again.result()).status).to.equal('cancelled');
  });
});
