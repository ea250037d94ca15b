// Cancelling a flow (run.cancel / engine.cancel) and redriving a failed one (engine.redrive), on
// both stores. Redrive rebuilds the flow's streams from the registry, so the rivers here keep their
// state in module variables keyed by their config, not in instance fields.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  Andes,
  Atlantic,
  Basin,
  Headwaters,
  LevelStore,
  ParallelRiver,
  River,
  type Engine,
  type FlowError,
  type RiverContext,
  type Stream,
} from '../../lib/index.js';
import { forEachStore, latch, overriding, rejects, until, useEngines, within, type Latch } from '../helpers/stores.js';

/** Calls of flow() by label. */
let calls: Record<string, number> = {};
/** Labels whose river throws. */
let failing = new Set<string>();
/** What the rivers saw, by label. */
let seen: Record<string, unknown> = {};
/** Released when the river of that label starts. */
let started = new Map<string, Latch>();
/** The river of that label waits for this latch (or for the flow to stop). */
let gates = new Map<string, Latch>();
/** Atlantic hooks called, in order: 'success' or 'fail <code>'. */
let hooks: string[] = [];
let hookErrors: FlowError[] = [];

const startedLatch = (label: string): Latch => {
  let l = started.get(label);
  if (l === undefined) started.set(label, (l = latch()));
  return l;
};
const gate = (label: string): Latch => {
  let l = gates.get(label);
  if (l === undefined) gates.set(label, (l = latch()));
  return l;
};

/** Counts its calls, records what it saw, puts `<label>` = its call count, and throws while failing. */
class Unit extends River<{ label: string }> {
  async flow(hw: Headwaters, ctx: RiverContext) {
    const label = this.config!.label;
    calls[label] = (calls[label] ?? 0) + 1;
    seen[label] = { ...hw.toJSON() };
    startedLatch(label).release();
    if (failing.has(label)) throw new Error(`${label} failed`);
    hw.put(label, calls[label]!);
    void ctx;
  }
}

/** Throws while failing, else waits until its gate opens or the flow stops; records whether hw.signal and ctx.signal aborted. */
class Gated extends River<{ label: string }> {
  async flow(hw: Headwaters, ctx: RiverContext) {
    const label = this.config!.label;
    calls[label] = (calls[label] ?? 0) + 1;
    startedLatch(label).release();
    if (failing.has(label)) throw new Error(`${label} failed`);
    const stopped = new Promise<void>((r) => hw.signal.addEventListener('abort', () => r(), { once: true }));
    await within(Promise.race([gate(label).promise, stopped]), 2000, `gate ${label}`);
    seen[label] = { hwAborted: hw.signal.aborted, ctxAborted: ctx.signal.aborted };
  }
}

class Hooks extends Atlantic {
  success() {
    hooks.push('success');
  }
  fail(_hw: Headwaters, error: FlowError) {
    hooks.push(`fail ${error.code}`);
    hookErrors.push(error);
  }
}

const unit = (label: string) => new Unit({ label });
const gated = (label: string) => new Gated({ label });

forEachStore((kind) => {
  describe('cancel and redrive', () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      calls = {};
      failing = new Set();
      seen = {};
      started = new Map();
      gates = new Map();
      hooks = [];
      hookErrors = [];
      engine = await engines.open({ classes: [Unit, Gated, Hooks] });
    });

    const start = (streams: Stream[], hw?: Headwaters<any>) => {
      const andes = new Andes(engine).drawStream(...streams).drawAtlantic(new Hooks());
      if (hw !== undefined) andes.drawHeadwaters(hw);
      return andes.start();
    };

    describe('cancel', () => {
      it("ends a running flow with status 'cancelled' and gives Atlantic.fail the code E_CANCELLED", async () => {
        const run = await start([gated('long'), unit('after')]);
        await within(startedLatch('long').promise, 1000, 'the river starting');
        await run.cancel('why');
        const outcome = await run.result();
        expect(outcome.status).to.equal('cancelled');
        expect(outcome.error).to.have.property('code', 'E_CANCELLED');
        expect(hooks).to.deep.equal(['fail E_CANCELLED']);
        const snap = await engine.get(run.id);
        expect(snap!.status).to.equal('cancelled');
        expect(snap!.error).to.have.property('code', 'E_CANCELLED');
      });

      it('passes the reason on in the error message', async () => {
        const run = await start([gated('long')]);
        await within(startedLatch('long').promise, 1000, 'the river starting');
        await run.cancel('the user asked');
        const outcome = await run.result();
        expect(outcome.error!.message).to.contain('the user asked');
        expect(hookErrors[0]!.message).to.contain('the user asked');
      });

      it('skips the rivers not yet started and aborts the running one through hw.signal and ctx.signal', async () => {
        const run = await start([gated('long'), unit('after')]);
        await within(startedLatch('long').promise, 1000, 'the river starting');
        await run.cancel('stop');
        await run.result();
        expect(seen['long']).to.deep.equal({ hwAborted: true, ctxAborted: true });
        expect(calls['after']).to.equal(undefined);
        const snap = await engine.get(run.id);
        expect(snap!.streams.map((s) => s.state)).to.deep.equal(['success', 'skipped']);
      });

      it('cancels through engine.cancel(id, reason) too', async () => {
        const run = await start([gated('long'), unit('after')]);
        await within(startedLatch('long').promise, 1000, 'the river starting');
        await engine.cancel(run.id, 'from the engine');
        const outcome = await run.result();
        expect(outcome.status).to.equal('cancelled');
        expect(outcome.error).to.have.property('code', 'E_CANCELLED');
        expect(hooks).to.deep.equal(['fail E_CANCELLED']);
      });

      it('cancels by requestId too, as send() and get() take either; an unknown one is E_INVALID_ARGUMENT', async () => {
        const run = await start([gated('long'), unit('after')], new Headwaters('cancel-by-request'));
        await within(startedLatch('long').promise, 1000, 'the river starting');
        await engine.cancel('cancel-by-request', 'by its requestId');
        const outcome = await run.result();
        expect(outcome.status).to.equal('cancelled');
        expect(outcome.error?.message).to.contain('by its requestId');
        const err = await rejects(engine.cancel('no-such-request'));
        expect(err.code).to.equal('E_INVALID_ARGUMENT');
        expect(err.message).to.contain('no-such-request');
      });

      it('cancels a flow inside a parallel river: every branch stops', async () => {
        const run = await start([new ParallelRiver().append(gated('left'), unit('left after')).append(gated('right'))]);
        await within(Promise.all([startedLatch('left').promise, startedLatch('right').promise]), 1000, 'both branches starting');
        await run.cancel('stop');
        const outcome = await run.result();
        expect(outcome.status).to.equal('cancelled');
        expect(seen['left']).to.include({ hwAborted: true });
        expect(seen['right']).to.include({ hwAborted: true });
        expect(calls['left after']).to.equal(undefined);
      });

      it('cancels a flow still waiting in the concurrency window: none of its rivers runs', async () => {
        await engine.close();
        engine = await engines.open({ concurrency: 1, classes: [Unit, Gated, Hooks] });
        const blocker = await start([gated('blocker')]);
        await within(startedLatch('blocker').promise, 1000, 'the blocker starting');
        const waiting = await start([unit('queued'), unit('queued next')]);
        expect((await engine.get(waiting.id))!.status).to.equal('waiting');
        await waiting.cancel('not needed');
        const outcome = await waiting.result();
        expect(outcome.status).to.equal('cancelled');
        expect(outcome.error).to.have.property('code', 'E_CANCELLED');
        expect(calls['queued']).to.equal(undefined);
        expect(calls['queued next']).to.equal(undefined);
        expect(hooks).to.deep.equal(['fail E_CANCELLED']);
        const snap = await engine.get(waiting.id);
        expect(snap!.status).to.equal('cancelled');
        expect(snap!.streams.map((s) => s.state)).to.not.include('success');
        expect((await engine.list({ status: 'waiting' })).map((f) => f.id)).to.not.include(waiting.id);
        // the blocker is untouched and the window still works
        const third = await start([unit('third')]);
        gate('blocker').release();
        expect((await blocker.result()).status).to.equal('success');
        expect((await third.result()).status).to.equal('success');
        expect(calls['third']).to.equal(1);
      });

      it('ends a waiting flow once when it is cancelled twice at the same moment: one Atlantic.fail, one flow:end', async () => {
        await engine.close();
        engine = await engines.open({ concurrency: 1, classes: [Unit, Gated, Hooks] });
        const ends: string[] = [];
        engine.on('flow:end', (e) => ends.push(e.flowId));
        const blocker = await start([gated('blocker')]);
        await within(startedLatch('blocker').promise, 1000, 'the blocker starting');
        const waiting = await start([unit('queued')]);
        await Promise.all([waiting.cancel('one'), engine.cancel(waiting.id, 'two')]);
        expect((await waiting.result()).status).to.equal('cancelled');
        expect(hooks).to.deep.equal(['fail E_CANCELLED']);
        expect(ends.filter((id) => id === waiting.id)).to.have.length(1);
        gate('blocker').release();
        expect((await blocker.result()).status).to.equal('success');
        expect(calls['queued']).to.equal(undefined);
      });

      it('leaves a flow that succeeded as it is', async () => {
        const run = await start([unit('done')]);
        expect((await run.result()).status).to.equal('success');
        await run.cancel('too late');
        const outcome = await run.result();
        expect(outcome.status).to.equal('success');
        expect(outcome.error).to.equal(undefined);
        expect((await engine.get(run.id))!.status).to.equal('success');
        expect(hooks).to.deep.equal(['success']);
        expect(calls['done']).to.equal(1);
      });

      it('leaves a flow that failed as it is', async () => {
        failing.add('broken');
        const run = await start([unit('broken')]);
        expect((await run.result()).status).to.equal('fail');
        await engine.cancel(run.id, 'too late');
        const outcome = await run.result();
        expect(outcome.status).to.equal('fail');
        expect(outcome.error).to.have.property('code', 'E_RIVER_FAILED');
        expect((await engine.get(run.id))!.status).to.equal('fail');
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED']);
      });
    });

    describe('redrive', () => {
      it('does not run again the rivers that succeeded, runs the failed one again, and can then succeed', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b'), unit('c')]);
        const first = await run.result();
        expect(first.status).to.equal('fail');
        expect(calls).to.deep.equal({ a: 1, b: 1 });
        failing.delete('b');
        const again = await engine.redrive(run.id);
        expect(again.id).to.equal(run.id);
        const outcome = await again.result();
        expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
        expect(outcome.error).to.equal(undefined);
        expect(calls).to.deep.equal({ a: 1, b: 2, c: 1 });
        const snap = await engine.get(run.id);
        expect(snap!.status).to.equal('success');
        expect(snap!.error).to.equal(undefined);
        expect(snap!.streams.map((s) => s.state)).to.deep.equal(['success', 'success', 'success']);
      });

      if (kind.persistent) {
        it('records the redrive of a flow whose classes the engine lacks, warns naming the class, and carries it out once the class is registered', async () => {
          failing.add('b');
          const run = await start([unit('a'), unit('b')]);
          expect((await run.result()).status).to.equal('fail');
          await engine.close();
          failing.delete('b');
          const logged: Array<{ level: number; msg: string; err?: { message?: string } }> = [];
          const sink = new Writable({
            write(chunk: Buffer, _encoding, done) {
              for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
              done();
            },
          });
          const bare = await engines.open({ logger: pino({ level: 'warn' }, sink) });
          const again = await bare.redrive(run.id);
          const warning = logged.find((l) => l.level === 40 && l.msg.includes('redrive'));
          expect(warning, JSON.stringify(logged)).to.not.equal(undefined);
          expect(warning!.err?.message).to.include('"Unit"');
          expect((await bare.get(run.id))?.status, 'the flow as it was').to.equal('fail');
          bare.register(Unit, Hooks);
          const outcome = await within(again.result(), 3000, 'the redriven flow ends');
          expect(outcome.status).to.equal('success');
          expect(calls).to.deep.equal({ a: 1, b: 2 });
        });
      }

      it('reads the stored commands again on register() of a new class only, not of one it has', async () => {
        const reads: string[] = [];
        const real = LevelStore.memory();
        const store = overriding(real, { listCommands: (query) => (reads.push('listCommands'), real.listCommands(query)) });
        const e = await engines.open({ store, classes: [Unit] });
        await until(() => reads.length > 0, 2000, 'the read at open');
        const atOpen = reads.length;
        for (let i = 0; i < 20; i++) e.register(Unit);
        await new Promise((r) => setTimeout(r, 50));
        expect(reads.length, 'a class it has').to.equal(atOpen);
        e.register(Gated);
        await until(() => reads.length > atOpen, 2000, 'the read after a new class');
      });

      it('redrives by requestId too', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b')], new Headwaters('redrive-by-request'));
        expect((await run.result()).status).to.equal('fail');
        failing.delete('b');
        const again = await engine.redrive('redrive-by-request');
        expect(again.id).to.equal(run.id);
        expect((await again.result()).status).to.equal('success');
        expect(calls).to.deep.equal({ a: 1, b: 2 });
        expect((await rejects(engine.redrive('no-such-request'))).code).to.equal('E_INVALID_ARGUMENT');
      });

      it('runs Atlantic.success for the new outcome after Atlantic.fail ran for the first', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b')]);
        await run.result();
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED']);
        failing.delete('b');
        await (await engine.redrive(run.id)).result();
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED', 'success']);
      });

      it('resolves the result() of the first FlowRun with the redriven outcome', async () => {
        failing.add('b');
        const run = await start([unit('b')]);
        await run.result();
        failing.delete('b');
        await (await engine.redrive(run.id)).result();
        expect((await run.result()).status).to.equal('success');
      });

      it('keeps the headwaters the succeeded rivers wrote', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b')], new Headwaters().put('input', 'x'));
        await run.result();
        failing.delete('b');
        const outcome = await (await engine.redrive(run.id)).result();
        expect(seen['b']).to.deep.equal({ input: 'x', a: 1 });
        expect(outcome.headwaters).to.deep.equal({ input: 'x', a: 1, b: 2 });
      });

      it('runs again only the failed branch of a parallel river', async () => {
        failing.add('right');
        const run = await start([new ParallelRiver().append(unit('left'), unit('left 2')).append(unit('right')), unit('after')]);
        expect((await run.result()).status).to.equal('fail');
        failing.delete('right');
        const outcome = await (await engine.redrive(run.id)).result();
        expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
        expect(calls).to.deep.equal({ left: 1, 'left 2': 1, right: 2, after: 1 });
      });

      it('resumes a failed basin and merges, on its success, the keys its succeeded rivers set', async () => {
        failing.add('second');
        const run = await start([new Basin('b').drawStream(unit('first'), unit('second')), unit('after')]);
        const first = await run.result();
        expect(first.status).to.equal('fail');
        expect(first.headwaters).to.deep.equal({});
        failing.delete('second');
        const outcome = await (await engine.redrive(run.id)).result();
        expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
        expect(calls).to.deep.equal({ first: 1, second: 2, after: 1 });
        expect(seen['second'], 'what the retried river saw in its basin').to.deep.equal({ first: 1 });
        expect(outcome.headwaters).to.deep.equal({ first: 1, second: 2, after: 1 });
      });

      it('records a second failure when the redriven river fails again, and runs Atlantic.fail for it', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b')]);
        await run.result();
        const outcome = await (await engine.redrive(run.id)).result();
        expect(outcome.status).to.equal('fail');
        expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Unit' });
        expect(calls).to.deep.equal({ a: 1, b: 2 });
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED', 'fail E_RIVER_FAILED']);
      });

      it('rejects the redrive of a flow that succeeded with E_CONFLICT (Part 2; was E_INVALID_ARGUMENT)', async () => {
        const run = await start([unit('a')]);
        await run.result();
        const err = await rejects(engine.redrive(run.id));
        expect(err).to.have.property('code', 'E_CONFLICT');
        await until(async () => (await engine.get(run.id))?.status === 'success');
        expect(calls).to.deep.equal({ a: 1 });
        expect(hooks).to.deep.equal(['success']);
      });

      it('rejects the redrive of a running flow with E_CONFLICT', async () => {
        const run = await start([gated('long')]);
        await within(startedLatch('long').promise, 1000, 'the river starting');
        const err = await rejects(engine.redrive(run.id));
        expect(err).to.have.property('code', 'E_CONFLICT');
        gate('long').release();
        expect((await run.result()).status).to.equal('success');
        expect(calls['long']).to.equal(1);
      });

      it('redrives once when redrive is called several times at once: the other calls get E_CONFLICT', async () => {
        failing.add('b');
        const run = await start([unit('a'), unit('b')]);
        await run.result();
        failing.delete('b');
        const tries = await Promise.allSettled([engine.redrive(run.id), engine.redrive(run.id), engine.redrive(run.id)]);
        const redriven = tries.filter((t) => t.status === 'fulfilled');
        expect(redriven).to.have.length(1);
        for (const t of tries) if (t.status === 'rejected') expect(t.reason).to.have.property('code', 'E_CONFLICT');
        expect((await redriven[0]!.value.result()).status).to.equal('success');
        expect(calls).to.deep.equal({ a: 1, b: 2 });
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED', 'success']);
        expect((await engine.get(run.id))!.streams[1]!.attempts).to.equal(1);
      });

      it('cancels the redriven run when cancel is called at the same time as redrive', async () => {
        failing.add('long');
        const run = await start([gated('long')]);
        await run.result();
        failing.delete('long'); // the redriven attempt waits until the flow stops
        const [again] = await Promise.all([engine.redrive(run.id), engine.cancel(run.id, 'changed my mind')]);
        const outcome = await again.result();
        expect(outcome.status).to.equal('cancelled');
        expect(outcome.error?.message).to.contain('changed my mind');
        expect(hooks).to.deep.equal(['fail E_RIVER_FAILED', 'fail E_CANCELLED']);
      });
    });
  });
});
