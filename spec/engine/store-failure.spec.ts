// A store write that fails (a full disk) is fatal to the store: the engine takes no more work and
// reports no outcome whose records did not land. Proven on a real full filesystem: a 2 MiB tmpfs,
// filled by the flows' own LevelDB log and a filler file.
import { expect } from 'chai';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Andes, Dam, Engine, Headwaters, River, type FlowOutcome, type RiverAttr } from '../../lib/index.js';
import { rejects, silent, until, within } from '../helpers/stores.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

class Pad extends River {
  static n = 0;
  update(attr: RiverAttr) {
    attr.durable = true; // each river's end carries a checkpoint: the log grows quickly
  }
  async flow(hw: Headwaters) {
    hw.put(`pad${++Pad.n}`, 'x'.repeat(300));
  }
}

/** Pad, but still in its flow() for a while: the store fails under rivers that are running. */
class SlowPad extends River {
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  async flow(hw: Headwaters) {
    await new Promise((r) => setTimeout(r, 10));
    hw.put('pad', 'p'.repeat(5000));
  }
}

/** A pino logger that keeps every entry it is given. */
function capture(): { logger: ReturnType<typeof pino>; entries: Array<{ level: number; msg: string }> } {
  const entries: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') entries.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), entries };
}

describe('a store write that fails on a full disk', function () {
  this.timeout(10_000);
  let fsys: Tmpfs | undefined;
  const engines: Engine[] = [];

  beforeEach(() => {
    fsys = mountTmpfs('2m');
  });

  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close().catch(() => {});
    fsys?.unmount(); // also when the test failed: an engine left open is closed above first
    fsys = undefined;
  });

  it('stops the engine, refuses later writes even once there is room, and loses no flow whose start() resolved', async () => {
    const db = path.join(fsys!.dir, 'db');
    const { logger, entries } = capture();
    const engine = await Engine.open({ store: db, logger, classes: [Pad], closeTimeout: 200 });
    engines.push(engine);
    fsys!.fill(256 * 1024); // room for a few hundred flows' records, then the log write fails

    const started: string[] = [];
    const outcomes = new Map<string, FlowOutcome>();
    const results: Promise<unknown>[] = [];
    let failure: (Error & { code?: string }) | undefined;
    let round = 0;
    const startRound = (prefix: string) =>
      Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          try {
            const run = await new Andes(engine)
              .drawHeadwaters(new Headwaters(`${prefix}${round}-${i}`))
              .drawStream(new Pad(), new Pad(), new Pad())
              .start();
            started.push(run.id);
            results.push(
              run.result().then(
                (o) => outcomes.set(run.id, o),
                (e: Error & { code?: string }) => e,
              ),
            );
          } catch (err) {
            failure ??= err as Error;
          }
        }),
      );
    while (failure === undefined && round < 200) {
      await startRound('r');
      round++;
    }
    expect(failure, 'the disk filled up').to.not.equal(undefined);
    expect(failure).to.have.property('code', 'E_STORE_UNAVAILABLE');
    expect((failure!.cause as { code?: string }).code).to.equal('LEVEL_IO_ERROR');
    expect(failure!.message).to.match(/No space left on device/);
    const resolvedBeforeFull = started.length;

    // room comes back while the engine still runs; LevelDB would now take writes again, appending
    // them after the torn record of the failed write, and drop them at the next open
    fsys!.makeRoom(512 * 1024);
    const before = started.length;
    for (let i = 0; i < 5; i++, round++) await startRound('late');
    expect(started.length, 'no start() resolves after the failure').to.equal(before);

    const settled = await within(Promise.all(results), 5000, 'every result() settling');
    const rejected = settled.filter((r): r is Error & { code?: string } => r instanceof Error);
    for (const err of rejected) expect(err).to.have.property('code', 'E_STORE_UNAVAILABLE');
    for (const o of outcomes.values()) expect(o.status, 'no flow fails because of the store').to.equal('success');
    expect((await rejects(engine.get(started[0]!))).code).to.equal('E_STORE_UNAVAILABLE');
    expect((await rejects(engine.cancel(started[0]!))).code).to.equal('E_STORE_UNAVAILABLE');
    expect((await rejects(engine.redrive(started[0]!))).code).to.equal('E_STORE_UNAVAILABLE');
    expect((await rejects(engine.list())).code).to.equal('E_STORE_UNAVAILABLE');
    const errors = entries.filter((e) => e.level >= 50);
    expect(
      errors.map((e) => e.msg),
      'logged once',
    ).to.have.length(1);
    expect(errors[0]!.msg).to.match(/store failed a write/);

    await within(engine.close(), 3000, 'close()');
    engines.splice(0);

    // still full: opening says so with a code instead of a raw LEVEL_DATABASE_NOT_OPEN
    fsys!.fill(0);
    const full = await rejects(Engine.open({ store: db, logger: silent, classes: [Pad] }));
    expect(full).to.have.property('code', 'E_STORE_UNAVAILABLE');

    fsys!.makeRoom();
    const again = await Engine.open({ store: db, logger: silent, classes: [Pad] });
    engines.push(again);
    for (const id of started) {
      const snap = await again.get(id);
      expect(snap, `flow ${id}, whose start() resolved`).to.not.equal(undefined);
      const reported = outcomes.get(id);
      if (reported !== undefined) expect(snap!.status, `flow ${id} was reported ${reported.status}`).to.equal(reported.status);
    }
    // the flows the failure stopped resume and run to the end
    const ended = async () => (await Promise.all(started.map((id) => again.get(id)))).every((s) => s?.status === 'success' && s.atlantic?.done === true);
    await until(ended, 5000, 'every recovered flow ending success');
    expect(await again.list({ status: 'fail' })).to.deep.equal([]);
    expect(resolvedBeforeFull, 'flows ran before the disk filled').to.be.greaterThan(0);
  });

  it('does not crash the process when the disk fills while rivers are in their flow(): every start() and result() rejects or resolves', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const engine = await Engine.open({ store: path.join(fsys!.dir, 'db'), logger: silent, classes: [SlowPad], closeTimeout: 200 });
      engines.push(engine);
      fsys!.fill(256 * 1024);
      const all: Array<Promise<unknown>> = [];
      let failed = false;
      for (let i = 0; i < 2000 && !failed; i++) {
        all.push(
          new Andes(engine)
            .drawHeadwaters(new Headwaters(`slow-${i}`))
            .drawStream(new SlowPad())
            .start()
            .then((run) => run.result())
            .catch((err: { code?: string }) => {
              failed = true;
              return err.code;
            }),
        );
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const settled = await within(Promise.all(all), 5000, 'every start() and result() settling');
      expect(settled.filter((s) => typeof s === 'string')).to.not.deep.equal([]);
      for (const s of settled) if (typeof s === 'string') expect(s).to.equal('E_STORE_UNAVAILABLE');
      await within(engine.close(), 3000, 'close()');
      engines.splice(0);
      // a rejection nobody handled would surface at the next turns
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled.map(String)).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  /** An engine on the tmpfs with one flow held at a Dam, the disk not yet filled. */
  async function heldAtDam(requestId: string) {
    const db = path.join(fsys!.dir, 'db');
    const engine = await Engine.open({ store: db, logger: silent, classes: [Pad], closeTimeout: 200 });
    engines.push(engine);
    const run = await new Andes(engine).drawHeadwaters(new Headwaters(requestId)).drawStream(new Pad(), new Dam('approval')).start();
    await until(async () => (await engine.get(run.id))?.streams[1]?.state === 'waiting', 3000, 'the Dam holding');
    return { db, engine, run };
  }

  it('rejects a cancel whose record could not be written (E_STORE_UNAVAILABLE), and the flow is as it was after a reopen', async () => {
    const { db, engine, run } = await heldAtDam('held');
    // less room than the cancel's reason takes
    fsys!.fill(200 * 1024);
    const err = await rejects(engine.cancel(run.id, 'r'.repeat(1 << 20)));
    expect(err.code).to.equal('E_STORE_UNAVAILABLE');
    await within(engine.close(), 3000, 'close()');
    engines.splice(0);
    fsys!.makeRoom();
    const again = await Engine.open({ store: db, logger: silent, classes: [Pad] });
    engines.push(again);
    const snap = await again.get(run.id);
    expect(snap?.status).to.equal('running');
    expect(snap?.streams[1]?.state).to.equal('waiting');
  });

  it('takes no more work after a message it could not store (the disk full): send() and then get() reject with E_STORE_UNAVAILABLE', async () => {
    const { db, engine, run } = await heldAtDam('waits');
    fsys!.fill(200 * 1024);
    expect((await rejects(engine.send(run.id, 'approval', 'p'.repeat(1 << 20)))).code).to.equal('E_STORE_UNAVAILABLE');
    expect((await rejects(engine.get(run.id))).code).to.equal('E_STORE_UNAVAILABLE');
    expect((await rejects(engine.list())).code).to.equal('E_STORE_UNAVAILABLE');
    await within(engine.close(), 3000, 'close()');
    engines.splice(0);
    fsys!.makeRoom();
    const again = await Engine.open({ store: db, logger: silent, classes: [Pad] });
    engines.push(again);
    expect((await again.get(run.id))?.streams[1]?.state, 'no message reached its Dam').to.equal('waiting');
  });
});
