// Atomic rivers: once started, an atomic river and the later atomic rivers of its branch run to the
// end even when a sibling branch fails or the flow is cancelled; non-atomic rivers not yet started
// are skipped, and Atlantic.fail runs only after the running branches have settled.
import { expect } from 'chai';
import { Andes, Headwaters, ParallelRiver, River, type Engine, type RiverAttr, type RiverContext, type Stream } from '../../lib/index.js';
import { aborted, latch, RecordingAtlantic, sleep, STORE_KINDS, type Latch, useEngines, within } from '../helpers/stores.js';

type Body = (hw: Headwaters, ctx: RiverContext) => unknown;

/** Every start and end of a river, and the Atlantic hooks, in order. */
let log: string[] = [];

class Step extends River<{ label: string }> {
  readonly body: Body;
  readonly attrs: RiverAttr;
  constructor(label: string, body: Body = () => {}, attrs: RiverAttr = {}) {
    super({ label });
    this.body = body;
    this.attrs = attrs;
  }
  update(attr: RiverAttr) {
    Object.assign(attr, this.attrs);
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    log.push(`start ${this.config!.label}`);
    await this.body(hw, ctx);
    log.push(`end ${this.config!.label}`);
  }
}
/** Same as Step, under another name: tells rivers apart in a snapshot. */
class Atom extends Step {}

/** A river that fails once `go` is released. */
class Failer extends River {
  readonly go: Latch;
  constructor(go: Latch) {
    super();
    this.go = go;
  }
  async flow() {
    await within(this.go.promise, 1000, 'the go signal');
    log.push('failer throws');
    throw new Error('sibling failed');
  }
}

const ATOMIC: RiverAttr = { atomic: true };

/** A body that starts `started`, waits until the flow is stopping, then takes a few ms more. */
const runsThroughFailure =
  (started: Latch): Body =>
  async (hw) => {
    started.release();
    await aborted(hw.signal, 1000);
    await sleep(5);
  };

describe('atomic rivers', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  let engine: Engine;
  beforeEach(async () => {
    log = [];
    engine = await engines.open();
  });

  const run = async (streams: Stream[], atlantic = new RecordingAtlantic(log)) => {
    const flow = await new Andes(engine)
      .drawStream(...streams)
      .drawAtlantic(atlantic)
      .start();
    const outcome = await flow.result();
    const snap = await engine.get(flow.id);
    const state = (label: string): string | undefined => {
      // rivers appear in the snapshot in drawing order; labels are given in drawing order too
      const rivers = snap!.streams.filter((s) => s.kind === 'river');
      return rivers[order.indexOf(label)]?.state;
    };
    return { flow, outcome, snap: snap!, state };
  };
  /** The labels of the rivers drawn in a test, in drawing order (Failer as 'failer'). */
  let order: string[] = [];
  beforeEach(() => {
    order = [];
  });

  describe('when a sibling branch fails', () => {
    it('skips the later siblings of a running non-atomic river in its branch', async () => {
      const started = latch();
      order = ['failer', 'running', 'next'];
      const pr = new ParallelRiver().append(new Failer(started)).append(new Step('running', runsThroughFailure(started)), new Step('next'));
      const { outcome, state } = await run([pr]);
      expect(outcome.status).to.equal('fail');
      expect(log).to.include('end running');
      expect(log).to.not.include('start next');
      expect(state('next')).to.equal('skipped');
    });

    it("runs a started atomic river and the later atomic rivers of its branch to the end: they are 'success'", async () => {
      const started = latch();
      order = ['failer', 'a1', 'a2', 'a3'];
      const pr = new ParallelRiver()
        .append(new Failer(started))
        .append(new Atom('a1', runsThroughFailure(started), ATOMIC), new Atom('a2', () => sleep(2), ATOMIC), new Atom('a3', undefined, ATOMIC));
      const { outcome, state } = await run([pr]);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ river: 'Failer' });
      expect(log.filter((l) => l.startsWith('end a'))).to.deep.equal(['end a1', 'end a2', 'end a3']);
      expect([state('a1'), state('a2'), state('a3')]).to.deep.equal(['success', 'success', 'success']);
    });

    it('skips the non-atomic rivers after the started atomic ones', async () => {
      const started = latch();
      order = ['failer', 'a1', 'a2', 'n3'];
      const pr = new ParallelRiver()
        .append(new Failer(started))
        .append(new Atom('a1', runsThroughFailure(started), ATOMIC), new Atom('a2', undefined, ATOMIC), new Step('n3'));
      const { state } = await run([pr]);
      expect(log).to.include('end a2');
      expect(log).to.not.include('start n3');
      expect([state('a1'), state('a2'), state('n3')]).to.deep.equal(['success', 'success', 'skipped']);
    });

    it("runs the rest of the branch's atomic rivers, also one drawn after a skipped non-atomic river", async () => {
      const started = latch();
      order = ['failer', 'a1', 'n2', 'a3'];
      const pr = new ParallelRiver()
        .append(new Failer(started))
        .append(new Atom('a1', runsThroughFailure(started), ATOMIC), new Step('n2'), new Atom('a3', undefined, ATOMIC));
      const { state } = await run([pr]);
      expect([state('a1'), state('n2'), state('a3')]).to.deep.equal(['success', 'skipped', 'success']);
    });

    it('skips an atomic river that had not started when the sibling failed', async () => {
      const started = latch();
      order = ['failer', 'n1', 'a2'];
      const pr = new ParallelRiver().append(new Failer(started)).append(new Step('n1', runsThroughFailure(started)), new Atom('a2', undefined, ATOMIC));
      const { state } = await run([pr]);
      expect(log).to.not.include('start a2');
      expect(state('a2')).to.equal('skipped');
    });

    it('skips an atomic river drawn after the failed parallel river', async () => {
      const go = latch();
      go.release();
      order = ['failer', 'after'];
      const { state } = await run([new ParallelRiver().append(new Failer(go)), new Atom('after', undefined, ATOMIC)]);
      expect(log).to.not.include('start after');
      expect(state('after')).to.equal('skipped');
    });

    it('runs Atlantic.fail only after the running atomic rivers have ended', async () => {
      const started = latch();
      const atlantic = new RecordingAtlantic(log);
      const pr = new ParallelRiver()
        .append(new Failer(started))
        .append(new Atom('a1', runsThroughFailure(started), ATOMIC), new Atom('a2', () => sleep(10), ATOMIC));
      const { outcome } = await run([pr], atlantic);
      expect(outcome.status).to.equal('fail');
      expect(log.slice(-3)).to.deep.equal(['start a2', 'end a2', 'atlantic fail']);
      expect(log.indexOf('failer throws')).to.be.below(log.indexOf('start a2'));
      expect(atlantic.errors.map((e) => e.river)).to.deep.equal(['Failer']);
    });

    it('keeps retrying a started atomic river after the sibling failed', async () => {
      const started = latch();
      order = ['failer', 'a1'];
      const pr = new ParallelRiver().append(new Failer(started)).append(
        new Atom(
          'a1',
          async (hw, ctx) => {
            started.release();
            if (ctx.attempt === 1) {
              await aborted(hw.signal, 1000);
              throw new Error('first attempt fails');
            }
          },
          { atomic: true, retryTimes: 2, retryInterval: 5 },
        ),
      );
      const { outcome, snap, state } = await run([pr]);
      expect(outcome.error).to.include({ river: 'Failer' });
      expect(state('a1')).to.equal('success');
      expect(snap.streams.filter((s) => s.kind === 'river')[1]!.attempts).to.equal(2);
    });

    it("does not abort an atomic river's ctx.signal, and aborts a non-atomic one's", async () => {
      const atomicStarted = latch();
      const plainStarted = latch();
      const bothStarted = latch();
      void Promise.all([atomicStarted.promise, plainStarted.promise]).then(() => bothStarted.release());
      const seen: Record<string, boolean> = {};
      const watch =
        (name: string, started: Latch): Body =>
        async (hw, ctx) => {
          started.release();
          await aborted(hw.signal, 1000);
          await sleep(2);
          seen[name] = ctx.signal.aborted;
        };
      const pr = new ParallelRiver()
        .append(new Failer(bothStarted))
        .append(new Atom('atomic', watch('atomic', atomicStarted), ATOMIC))
        .append(new Step('plain', watch('plain', plainStarted)));
      const { outcome } = await run([pr]);
      expect(outcome.status).to.equal('fail');
      expect(seen).to.deep.equal({ atomic: false, plain: true });
    });
  });

  describe('when the flow is cancelled', () => {
    it('runs a started atomic river and the later atomic ones to the end, skips the non-atomic ones after them', async () => {
      const started = latch();
      order = ['a1', 'a2', 'n3'];
      const atlantic = new RecordingAtlantic(log);
      const flow = await new Andes(engine)
        .drawStream(new Atom('a1', runsThroughFailure(started), ATOMIC), new Atom('a2', () => sleep(5), ATOMIC), new Step('n3'))
        .drawAtlantic(atlantic)
        .start();
      await within(started.promise, 1000, 'a1 starting');
      await flow.cancel('stop now');
      const outcome = await flow.result();
      expect(outcome.status).to.equal('cancelled');
      expect(outcome.error).to.have.property('code', 'E_CANCELLED');
      const rivers = (await engine.get(flow.id))!.streams.filter((s) => s.kind === 'river');
      expect(rivers.map((r) => r.state)).to.deep.equal(['success', 'success', 'skipped']);
      expect(log).to.deep.equal(['start a1', 'end a1', 'start a2', 'end a2', 'atlantic fail']);
      expect(atlantic.errors[0]).to.have.property('code', 'E_CANCELLED');
    });

    it('runs Atlantic.fail only after the running branches have settled', async () => {
      const startedA = latch();
      const startedB = latch();
      const atlantic = new RecordingAtlantic(log);
      const pr = new ParallelRiver().append(new Atom('atomic', runsThroughFailure(startedA), ATOMIC), new Atom('atomic next', () => sleep(10), ATOMIC)).append(
        new Step('plain', async (hw) => {
          startedB.release();
          await aborted(hw.signal, 1000);
          await sleep(15);
        }),
      );
      const flow = await new Andes(engine).drawStream(pr).drawAtlantic(atlantic).start();
      await within(Promise.all([startedA.promise, startedB.promise]), 1000, 'both branches starting');
      await flow.cancel('stop');
      const outcome = await flow.result();
      expect(outcome.status).to.equal('cancelled');
      expect(log[log.length - 1]).to.equal('atlantic fail');
      expect(log).to.include('end atomic next').and.to.include('end plain');
    });

    it('skips the later rivers of a running non-atomic river', async () => {
      const started = latch();
      const flow = await new Andes(engine).drawStream(new Step('n1', runsThroughFailure(started)), new Step('n2')).start();
      await within(started.promise, 1000, 'n1 starting');
      await flow.cancel('stop');
      const outcome = await flow.result();
      expect(outcome.status).to.equal('cancelled');
      expect(log).to.not.include('start n2');
      const rivers = (await engine.get(flow.id))!.streams;
      expect(rivers[1]!.state).to.equal('skipped');
    });

    it("does not abort an atomic river's ctx.signal, and aborts a non-atomic one's", async () => {
      const startedA = latch();
      const startedB = latch();
      const seen: Record<string, boolean> = {};
      const watch =
        (name: string, started: Latch): Body =>
        async (hw, ctx) => {
          started.release();
          await aborted(hw.signal, 1000);
          await sleep(2);
          seen[name] = ctx.signal.aborted;
        };
      const pr = new ParallelRiver().append(new Atom('atomic', watch('atomic', startedA), ATOMIC)).append(new Step('plain', watch('plain', startedB)));
      const flow = await new Andes(engine).drawStream(pr).start();
      await within(Promise.all([startedA.promise, startedB.promise]), 1000, 'both rivers starting');
      await flow.cancel('stop');
      await flow.result();
      expect(seen).to.deep.equal({ atomic: false, plain: true });
    });
  });
});
