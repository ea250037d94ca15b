// Durability within one process: timers that survive a reopen, a corrupt record, close(), sync.
// The crash tests in spec/crash/ prove the same guarantees with SIGKILLed processes.
import { expect } from 'chai';
import { Level } from 'level';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { RecordingStore, silent, useEngines } from '../helpers/stores.js';
import { pino } from 'pino';
import {
  Andes,
  Atlantic,
  Engine,
  Headwaters,
  LevelStore,
  ManualClock,
  ParallelRiver,
  River,
  type EngineOptions,
  type RiverAttr,
  type RiverContext,
} from '../../lib/index.js';
import { pgKinds } from '../helpers/postgres.js';

const MIN = 60_000;

let calls: string[] = [];

class SlowRetry extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.retryInterval = '10m';
  }
  async flow(_hw: Headwaters, ctx: RiverContext) {
    calls.push(`attempt ${ctx.attempt}`);
    if (ctx.attempt === 1) throw new Error('not yet');
  }
}

class SlowPoll extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 3;
    attr.cycleInterval = '5m';
  }
  async flow() {
    calls.push('flow');
  }
  async cycle(_hw: Headwaters, ctx: RiverContext) {
    calls.push(`poll ${ctx.cycle}`);
    return ctx.cycle === 3;
  }
}

class Quick extends River {
  async flow(hw: Headwaters) {
    calls.push(`quick ${hw.requestId}`);
    hw.put('quick', true);
  }
}

class Settling extends River {
  static release: () => void = () => {};
  update(attr: RiverAttr) {
    attr.durable = true; // its output must survive the restart
  }
  async flow(hw: Headwaters) {
    calls.push('settling start');
    await new Promise<void>((r) => (Settling.release = r));
    hw.put('settled', true);
    calls.push('settling end');
  }
}

class SlowHooks extends Atlantic {
  static release: () => void = () => {};
  async success() {
    calls.push('hook start');
    await new Promise<void>((r) => (SlowHooks.release = r));
    calls.push('hook end');
  }
}

/** Blocks forever while `hold` is set (a process that dies mid-flow); counts how many run at once. */
class Gate extends River {
  static hold = true;
  static started = 0;
  static running = 0;
  static peak = 0;
  async flow() {
    Gate.started++;
    if (Gate.hold) return new Promise<void>(() => {});
    Gate.peak = Math.max(Gate.peak, ++Gate.running);
    await new Promise((r) => setTimeout(r, 3));
    Gate.running--;
  }
}

/** Its attributes come from a switch: an engine of a later release may reject what it drew before. */
class Picky extends River {
  static retries = 1;
  update(attr: RiverAttr) {
    attr.retryTimes = Picky.retries;
  }
  async flow(hw: Headwaters) {
    hw.put('picky', true);
  }
}

/** A logger at `error` whose lines land in `logged`. */
function errorLog() {
  const logged: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (logged.push(c.toString()), cb()) });
  return { logged, logger: pino({ level: 'error' }, sink) };
}

/** Resolves once `n` flows of `engine` have recorded a retry wait. */
async function parked(engine: Engine, n: number): Promise<void> {
  for (;;) {
    const flows = await Promise.all((await engine.list()).map((f) => engine.get(f.id)));
    if (flows.filter((f) => f?.streams.some((s) => s.dueAt !== undefined)).length >= n) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * close() lets running attempts and hooks settle and records them, so the next engine never runs
 * them again: on LevelDB, and on PostgreSQL, where close() also gives the flows' claims back.
 */
function closeSettles(open: (options?: EngineOptions) => Promise<Engine>): void {
  it('close() lets a running attempt settle and records it, so recovery does not run it again', async () => {
    const engine = await open();
    const run = await new Andes(engine).drawHeadwaters(new Headwaters('settle-1')).drawStream(new Settling(), new Quick()).start();
    while (!calls.includes('settling start')) await new Promise((r) => setImmediate(r));
    const outcome = run.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(closed, 'close() waits for the running attempt').to.equal(false);
    Settling.release();
    await closing;
    expect(await outcome).to.have.property('code', 'E_CLOSED');
    expect(calls).to.deep.equal(['settling start', 'settling end']);

    const again = await open();
    const out = await (await new Andes(again).drawHeadwaters(new Headwaters('settle-1')).drawStream(new Settling(), new Quick()).start()).result();
    expect(out.status).to.equal('success');
    expect(out.headwaters).to.deep.equal({ settled: true, quick: true });
    expect(calls).to.deep.equal(['settling start', 'settling end', 'quick settle-1']);
  });

  it('close() lets a running Atlantic hook settle and records it, so recovery never runs it again', async () => {
    const engine = await open();
    const draw = (e: Engine) => new Andes(e).drawHeadwaters(new Headwaters('hook-1')).drawStream(new Quick()).drawAtlantic(new SlowHooks());
    const run = await draw(engine).start();
    while (!calls.includes('hook start')) await new Promise((r) => setImmediate(r));
    const closing = engine.close();
    await new Promise((r) => setTimeout(r, 5));
    SlowHooks.release();
    await closing;
    expect(calls).to.deep.equal(['quick hook-1', 'hook start', 'hook end']);

    const again = await open();
    const out = await (await draw(again).start()).result();
    expect(out.id).to.equal(run.id);
    expect(out.status).to.equal('success');
    expect(calls, 'the hook ran once').to.deep.equal(['quick hook-1', 'hook start', 'hook end']);
  });
}

describe('durability within a process', () => {
  let dir: string;
  const engines: Engine[] = [];
  const open = async (options: Parameters<typeof Engine.open>[0] = {}) => {
    const e = await Engine.open({ store: dir, logger: silent, classes: [SlowRetry, SlowPoll, Quick, Settling, SlowHooks, Gate, Picky], ...options });
    engines.push(e);
    return e;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-durable-'));
    calls = [];
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a 10-minute retry wait that was 9 minutes in resumes with 1 minute left', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const first = await open({ clock: new ManualClock(t0) });
    await new Andes(first).drawHeadwaters(new Headwaters('timer-1')).drawStream(new SlowRetry()).start();
    await (first.clock as ManualClock).sleeping();
    await (first.clock as ManualClock).advance(9 * MIN);
    expect(calls).to.deep.equal(['attempt 1']);
    await first.close();

    const clock = new ManualClock(t0 + 9 * MIN);
    const second = await open({ clock });
    const run = await new Andes(second).drawHeadwaters(new Headwaters('timer-1')).drawStream(new SlowRetry()).start();
    await clock.sleeping();
    await clock.advance(MIN - 1);
    expect(calls).to.deep.equal(['attempt 1']);
    await clock.advance(1);
    expect((await run.result()).status).to.equal('success');
    expect(calls).to.deep.equal(['attempt 1', 'attempt 2']);
  });

  it('a cycling river resumes its next poll at the recorded due time, with the polls it had left', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const firstClock = new ManualClock(t0);
    const first = await open({ clock: firstClock });
    await new Andes(first).drawHeadwaters(new Headwaters('poll-1')).drawStream(new SlowPoll()).start();
    await firstClock.sleeping();
    await firstClock.advance(5 * MIN); // poll 1
    await firstClock.sleeping();
    await firstClock.advance(2 * MIN); // 2 of the 5 minutes before poll 2
    expect(calls).to.deep.equal(['flow', 'poll 1']);
    await first.close();

    const clock = new ManualClock(t0 + 7 * MIN);
    const second = await open({ clock });
    const run = await new Andes(second).drawHeadwaters(new Headwaters('poll-1')).drawStream(new SlowPoll()).start();
    await clock.sleeping();
    await clock.advance(3 * MIN - 1);
    expect(calls).to.deep.equal(['flow', 'poll 1']);
    await clock.advance(1);
    await clock.sleeping();
    await clock.advance(5 * MIN);
    const out = await run.result();
    expect(out.status).to.equal('success');
    expect(calls).to.deep.equal(['flow', 'poll 1', 'poll 2', 'poll 3']);
    expect((await second.get(out.id))!.streams[0]).to.include({ cycles: 3, attempts: 1 });
  });

  closeSettles(open);

  it('recovery keeps the concurrency window: flows that were running resume a few at a time', async () => {
    Object.assign(Gate, { hold: true, started: 0, running: 0, peak: 0 });
    const first = await open({ concurrency: 6, closeTimeout: 10 });
    const draw = (e: Engine, i: number) => new Andes(e).drawHeadwaters(new Headwaters(`gate-${i}`)).drawStream(new Gate());
    for (let i = 0; i < 6; i++) await draw(first, i).start();
    while (Gate.started < 6) await new Promise((r) => setImmediate(r));
    await first.close(); // the six attempts never settle: left to recovery

    Gate.hold = false;
    const second = await open({ concurrency: 2 });
    const outcomes = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await draw(second, i).start()).result()));
    expect(outcomes.map((o) => o.status)).to.deep.equal(Array(6).fill('success'));
    expect(Gate.peak, 'most resumed flows running at once').to.equal(2);
  });

  it('a flow that cannot be rebuilt (its class now rejects its attributes) is logged and left; the others recover', async () => {
    Picky.retries = 1;
    const first = await open({ clock: new ManualClock() });
    await new Andes(first).drawHeadwaters(new Headwaters('picky')).drawStream(new SlowRetry(), new Picky()).start();
    await new Andes(first).drawHeadwaters(new Headwaters('plain')).drawStream(new SlowRetry()).start();
    await parked(first, 2);
    await first.close();

    Picky.retries = -1;
    const { logged, logger } = errorLog();
    const clock = new ManualClock();
    const second = await open({ clock, logger });
    await clock.sleeping();
    await clock.advance('10m');
    const plain = await (await new Andes(second).drawHeadwaters(new Headwaters('plain')).drawStream(new SlowRetry()).start()).result();
    expect(plain.status).to.equal('success');
    expect(logged.join('')).to.include('could not be rebuilt').and.to.include('retryTimes');
    const picky = (await second.list()).find((f) => f.requestId === 'picky')!;
    expect(picky.status, 'left as it was').to.equal('running');
    await second.close();

    Picky.retries = 1;
    const third = await open({ clock: new ManualClock(Date.now() + 3_600_000) });
    const out = await (await new Andes(third).drawHeadwaters(new Headwaters('picky')).drawStream(new SlowRetry(), new Picky()).start()).result();
    expect(out).to.deep.include({ id: picky.id, status: 'success', headwaters: { picky: true } });
  });

  it('recover: false leaves unfinished flows alone until an engine recovers them', async () => {
    const first = await open({ clock: new ManualClock() });
    await new Andes(first).drawHeadwaters(new Headwaters('later')).drawStream(new SlowRetry()).start();
    await (first.clock as ManualClock).sleeping();
    await first.close();
    const idle = await open({ recover: false, clock: new ManualClock() });
    expect(idle.clock).to.be.instanceOf(ManualClock);
    expect((idle.clock as ManualClock).pending).to.equal(0);
    expect((await idle.list())[0]!.status).to.equal('running');
  });

  it('an unreadable record fails that flow only with E_STORE_CORRUPT; the others recover', async () => {
    const first = await open({ clock: new ManualClock() });
    const bad = await new Andes(first).drawHeadwaters(new Headwaters('bad')).drawStream(new SlowRetry()).start();
    await new Andes(first).drawHeadwaters(new Headwaters('good')).drawStream(new SlowRetry()).start();
    await parked(first, 2);
    await first.close();

    const raw = new Level<string, string>(dir);
    await raw.put(`x!open!${bad.id}`, '{"id": oops');
    await raw.close();

    const { logged, logger } = errorLog();
    const clock = new ManualClock();
    const second = await open({ clock, logger });
    await clock.sleeping();
    await clock.advance('10m');
    const goodId = (await second.list()).find((s) => s.requestId === 'good')!.id;
    await new Promise((r) => setTimeout(r, 20));
    expect((await second.get(goodId))!.status).to.equal('success');
    expect(logged.join('')).to.include(bad.id).and.to.include('unreadable');
    expect((await second.list()).map((f) => f.requestId)).to.deep.equal(['good']);
    const err = await second.get(bad.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.have.property('code', 'E_STORE_CORRUPT');
  });

  it('sync: true fsyncs grouped writes: one store write serves many flows', async () => {
    const store = new RecordingStore(LevelStore.at(dir, { sync: true }));
    const { writes } = store;
    const engine = await Engine.open({ store, logger: silent });
    engines.push(engine);
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        new Andes(engine)
          .drawHeadwaters(new Headwaters(`s-${i}`))
          .drawStream(new Quick(), new Quick())
          .start(),
      ),
    );
    const outcomes = await Promise.all(runs.map((r) => r.result()));
    expect(outcomes.every((o) => o.status === 'success')).to.equal(true);
    const changes = writes.reduce((n, w) => n + w.length, 0);
    expect(changes / writes.length, `${changes} flow changes in ${writes.length} writes`).to.be.above(5);
  });

  it("a stream starts once the records before it are written; a parallel river's branches start with its own start record", async () => {
    const store = new RecordingStore(LevelStore.at(dir));
    const { writes } = store;
    const engine = await Engine.open({ store, logger: silent });
    engines.push(engine);
    const run = await new Andes(engine).drawStream(new ParallelRiver().append(new Quick()).append(new Quick())).drawStream(new Quick()).start();
    expect((await run.result()).status).to.equal('success');
    // the write in which stream `id` first reaches `state` (any state when omitted)
    const when = (id: string, state?: string) =>
      writes.findIndex((w) => w.some((c) => c.streams?.[id] !== undefined && (state === undefined || c.streams[id]!.state === state)));
    // a record of the parallel river first appears in the write of its start (or of its start and end)
    const parallelStarts = when('0');
    expect(parallelStarts, 'the parallel river recorded its start').to.be.at.least(1);
    expect(when('0.0.0'), 'first branch').to.equal(parallelStarts);
    expect(when('0.1.0'), 'second branch').to.equal(parallelStarts);
    const parallelEnds = when('0', 'success');
    expect(parallelEnds).to.be.at.least(Math.max(when('0.0.0', 'success'), when('0.1.0', 'success')));
    expect(when('1'), 'the river after the parallel one starts in a later write than its end').to.be.above(parallelEnds);
  });
});

for (const kind of pgKinds('close() keeping what settled')) {
  describe(`close() on the ${kind.name}`, () => {
    const engines = useEngines(kind);
    beforeEach(() => (calls = []));
    // a short lease would not matter: close() gives the claims back at once
    closeSettles((options = {}) => engines.open({ classes: [Quick, Settling, SlowHooks], closeTimeout: 5000, ...options }));
  });
}
