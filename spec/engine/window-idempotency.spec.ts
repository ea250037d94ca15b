// The concurrency window (flows past `concurrency` wait, and start in FIFO order as slots free) and
// idempotent start (a requestId the store holds is not run again), on both stores.
import { expect } from 'chai';
import { Andes, Headwaters, River, type Engine, type FlowRun } from '../../lib/index.js';
import { forEachStore, latch, until, useEngines, within, type Latch } from '../helpers/stores.js';

/** flow() calls by label, in order. */
let starts: string[] = [];
let gates = new Map<string, Latch>();
const gate = (label: string): Latch => {
  let l = gates.get(label);
  if (l === undefined) gates.set(label, (l = latch()));
  return l;
};

/** Logs its start, then waits until its gate opens. */
class Held extends River<{ label: string }> {
  async flow(hw: Headwaters) {
    const label = this.config!.label;
    starts.push(label);
    await within(gate(label).promise, 3000, `gate ${label}`);
    hw.put('ranBy', label);
  }
}

/** Logs its start and ends at once. */
class Quick extends River<{ label: string }> {
  async flow(hw: Headwaters) {
    starts.push(this.config!.label);
    hw.put('ranBy', this.config!.label);
  }
}

forEachStore((kind) => {
  describe('concurrency window', () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      starts = [];
      gates = new Map();
      engine = await engines.open({ concurrency: 2, classes: [Held, Quick] });
    });

    const held = (label: string) => new Andes(engine).drawStream(new Held({ label })).start();
    const status = async (run: FlowRun) => (await engine.get(run.id))!.status;

    it("runs two flows and keeps the third and fourth 'waiting' with concurrency: 2", async () => {
      const runs = [await held('f1'), await held('f2'), await held('f3'), await held('f4')];
      await until(() => starts.length === 2, 1000, 'two flows starting');
      expect(starts).to.deep.equal(['f1', 'f2']);
      expect(await Promise.all(runs.map(status))).to.deep.equal(['running', 'running', 'waiting', 'waiting']);
      const waiting = (await engine.list({ status: 'waiting' })).map((f) => f.id);
      expect(waiting).to.have.members([runs[2]!.id, runs[3]!.id]);
      const running = (await engine.list({ status: 'running' })).map((f) => f.id);
      expect(running).to.have.members([runs[0]!.id, runs[1]!.id]);
      for (const l of ['f1', 'f2', 'f3', 'f4']) gate(l).release();
      await Promise.all(runs.map((r) => r.result()));
    });

    it('starts the waiting flows in FIFO order as slots free', async () => {
      const runs = [await held('f1'), await held('f2'), await held('f3'), await held('f4')];
      await until(() => starts.length === 2, 1000, 'two flows starting');
      gate('f2').release(); // free the second slot first: the oldest waiting flow takes it
      await until(() => starts.length === 3, 1000, 'a waiting flow starting');
      expect(starts[2]).to.equal('f3');
      expect(await status(runs[3]!)).to.equal('waiting');
      gate('f1').release();
      await until(() => starts.length === 4, 1000, 'the last waiting flow starting');
      expect(starts).to.deep.equal(['f1', 'f2', 'f3', 'f4']);
      gate('f3').release();
      gate('f4').release();
      const outcomes = await Promise.all(runs.map((r) => r.result()));
      expect(outcomes.map((o) => o.status)).to.deep.equal(['success', 'success', 'success', 'success']);
      expect(outcomes.map((o) => o.headwaters['ranBy'])).to.deep.equal(['f1', 'f2', 'f3', 'f4']);
    });

    it('never runs more than two flows at once while many wait', async () => {
      let running = 0;
      let most = 0;
      class Counted extends River<{ label: string }> {
        async flow() {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
        }
      }
      const runs: FlowRun[] = [];
      for (let i = 0; i < 8; i++) runs.push(await new Andes(engine).drawStream(new Counted({ label: `c${i}` })).start());
      const outcomes = await Promise.all(runs.map((r) => r.result()));
      expect(outcomes.every((o) => o.status === 'success')).to.equal(true);
      expect(most).to.equal(2);
    });

    it('counts a flow that ended as a free slot: a later flow runs at once', async () => {
      const first = await held('f1');
      const second = await held('f2');
      gate('f1').release();
      expect((await first.result()).status).to.equal('success');
      const third = await new Andes(engine).drawStream(new Quick({ label: 'f3' })).start();
      expect((await third.result()).status).to.equal('success');
      expect(await status(second)).to.equal('running');
      gate('f2').release();
      await second.result();
    });
  });

  describe('idempotent start', () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      starts = [];
      gates = new Map();
      engine = await engines.open({ classes: [Held, Quick] });
    });

    const quick = (requestId: string, label: string, on = engine) =>
      new Andes(on).drawHeadwaters(new Headwaters(requestId).put('drawnBy', label)).drawStream(new Quick({ label })).start();

    it('returns the id of a finished flow with that requestId and does not run it again', async () => {
      const first = await quick('order-1', 'first');
      const outcome = await first.result();
      const second = await quick('order-1', 'second');
      expect(second.id).to.equal(first.id);
      expect(second.requestId).to.equal('order-1');
      const again = await second.result();
      expect(again.status).to.equal('success');
      expect(again.headwaters).to.deep.equal(outcome.headwaters);
      expect(again.headwaters).to.deep.equal({ drawnBy: 'first', ranBy: 'first' });
      expect(starts).to.deep.equal(['first']);
      expect((await engine.list()).filter((f) => f.requestId === 'order-1')).to.have.length(1);
    });

    it('runs a flow with another requestId', async () => {
      const first = await quick('order-1', 'first');
      await first.result();
      const other = await quick('order-2', 'other');
      expect(other.id).to.not.equal(first.id);
      expect((await other.result()).status).to.equal('success');
      expect(starts).to.deep.equal(['first', 'other']);
    });

    it('returns the running flow for a requestId started again while it runs, and runs it once', async () => {
      const first = await new Andes(engine)
        .drawHeadwaters(new Headwaters('order-1'))
        .drawStream(new Held({ label: 'first' }))
        .start();
      await until(() => starts.length === 1, 1000, 'the first flow starting');
      const second = await quick('order-1', 'second');
      expect(second.id).to.equal(first.id);
      const pending = second.result();
      gate('first').release();
      const outcome = await pending;
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters['ranBy']).to.equal('first');
      expect(starts).to.deep.equal(['first']);
    });

    it('runs one flow when two starts with the same requestId race', async () => {
      const [a, b] = await Promise.all([quick('order-race', 'a'), quick('order-race', 'b')]);
      expect(a!.id).to.equal(b!.id);
      const [oa, ob] = await Promise.all([a!.result(), b!.result()]);
      expect(oa.status).to.equal('success');
      expect(ob).to.deep.equal(oa);
      expect(starts).to.have.length(1);
      expect((await engine.list()).filter((f) => f.requestId === 'order-race')).to.have.length(1);
    });

    it('runs one flow when many starts with the same requestId race', async () => {
      const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => quick('order-many', `r${i}`)));
      expect(new Set(runs.map((r) => r.id)).size).to.equal(1);
      await runs[0]!.result();
      expect(starts).to.have.length(1);
    });

    it('returns the waiting flow for a requestId started again while it waits in the window', async () => {
      await engine.close();
      engine = await engines.open({ concurrency: 1, classes: [Held, Quick] });
      const blocker = await new Andes(engine).drawStream(new Held({ label: 'blocker' })).start();
      const queued = await quick('order-q', 'queued');
      expect((await engine.get(queued.id))!.status).to.equal('waiting');
      const again = await quick('order-q', 'again');
      expect(again.id).to.equal(queued.id);
      gate('blocker').release();
      await blocker.result();
      expect((await again.result()).headwaters['ranBy']).to.equal('queued');
      expect(starts).to.deep.equal(['blocker', 'queued']);
    });

    if (kind.persistent) {
      it('returns the stored flow after the engine is reopened, and does not run it again', async () => {
        const first = await quick('order-1', 'first');
        await first.result();
        await engine.close();
        engine = await engines.open({ classes: [Held, Quick] });
        const second = await quick('order-1', 'second');
        expect(second.id).to.equal(first.id);
        const outcome = await second.result();
        expect(outcome.status).to.equal('success');
        expect(outcome.headwaters).to.deep.equal({ drawnBy: 'first', ranBy: 'first' });
        expect(starts).to.deep.equal(['first']);
      });
    }
  });
});
