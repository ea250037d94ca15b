// Dam: a stream that holds its branch until a message of its name is sent to the flow (its payload
// put into the headwaters in the write that opens it), until its timeout, or, as a durable sleep,
// until its delay has passed. On every store; on PostgreSQL a send from another engine wakes the
// engine that holds the flow at once.
import { expect } from 'chai';
import {
  Andes,
  Basin,
  Dam,
  Engine,
  Headwaters,
  ManualClock,
  ParallelRiver,
  River,
  toMermaid,
  type FlowRun,
  type RiverAttr,
  type Stream,
} from '../../lib/index.js';
import { pgKinds } from '../helpers/postgres.js';
import { latch, rejects, STORE_KINDS, until, useEngines, within, type StoreKind } from '../helpers/stores.js';

/** A river that records that it ran, and what the headwaters held then. */
class Seen extends River<{ label: string }> {
  static riverName = 'Dam.Seen';
  static log: Array<{ label: string; hw: Record<string, unknown> }> = [];
  async flow(hw: Headwaters) {
    Seen.log.push({ label: this.config!.label, hw: hw.toJSON() as Record<string, unknown> });
  }
}
const seen = (label: string) => new Seen({ label });

/** A river that is not durable and puts a value: only a later checkpoint keeps it. */
class Puts extends River {
  static riverName = 'Dam.Puts';
  async flow(hw: Headwaters) {
    hw.put('before', 'kept');
  }
}

/** A river held until its gate opens. */
class Gated extends River {
  static riverName = 'Dam.Gated';
  static gate = latch();
  async flow() {
    await Gated.gate.promise;
  }
}

/** A river that fails once the Dam beside it holds. */
class Breaks extends River {
  static riverName = 'Dam.Breaks';
  flow(): void {
    throw new Error('broken');
  }
}

const start = (engine: Engine, requestId: string, ...streams: Stream[]): Promise<FlowRun> =>
  new Andes(engine)
    .drawHeadwaters(new Headwaters(requestId))
    .drawStream(...streams)
    .start();

async function state(engine: Engine, id: string, streamId: string) {
  return (await engine.get(id))!.streams.find((s) => s.id === streamId)!;
}

function damSpecs(kind: StoreKind): void {
  describe(`on the ${kind.name}`, () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      Seen.log = [];
      Gated.gate = latch();
      engine = await engines.open({ classes: [Seen, Gated, Breaks, Puts] });
    });

    it('holds its branch until the message, puts the payload under the message name, then goes on', async () => {
      const messages: unknown[] = [];
      engine.on('flow:message', (e) => messages.push(e));
      const run = await start(engine, 'hold-1', seen('before'), new Dam('approval'), seen('after'));
      await until(async () => (await state(engine, run.id, '1')).state === 'waiting', 2000, 'the Dam holding');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['before']);
      const snap = await state(engine, run.id, '1');
      expect(snap).to.include({ kind: 'dam', name: 'approval', state: 'waiting' });
      expect(snap.dueAt).to.equal(undefined);
      await engine.send(run.id, 'approval', { ok: true, by: 'alice' });
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters['approval']).to.deep.equal({ ok: true, by: 'alice' });
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['before', 'after']);
      expect(Seen.log[1]!.hw['approval']).to.deep.equal({ ok: true, by: 'alice' });
      expect(messages).to.deep.equal([{ flowId: run.id, requestId: 'hold-1', name: 'approval' }]);
      expect((await state(engine, run.id, '1')).state).to.equal('success');
    });

    it('keeps a message sent before the flow reaches its Dam, and takes it by requestId', async () => {
      const run = await start(engine, 'early-1', new Gated(), new Dam('go', { key: 'decision' }), seen('after'));
      await engine.send('early-1', 'go', 'yes');
      Gated.gate.release();
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters).to.include({ decision: 'yes' });
      expect(outcome.headwaters).not.to.have.property('go');
    });

    it('lets each Dam consume one message of its name, oldest first; a payload defaults to null', async () => {
      const run = await start(engine, 'two-1', new Dam('step', { key: 'first' }), new Dam('step', { key: 'second' }), new Dam('other'));
      await engine.send(run.id, 'other');
      await engine.send(run.id, 'step', 1);
      await engine.send(run.id, 'step', 2);
      const outcome = await run.result();
      expect(outcome.headwaters).to.deep.include({ first: 1, second: 2, other: null });
    });

    it('holds one branch of a parallel river while the other runs, and parks inside a basin', async () => {
      const run = await start(
        engine,
        'nested-1',
        new ParallelRiver().append(new Dam('left')).append(seen('right')),
        new Basin('blue').drawStream(new Dam('inner', { key: 'innerKey' }), seen('in basin')),
        seen('end'),
      );
      await until(() => Seen.log.some((l) => l.label === 'right'), 2000, 'the other branch');
      await engine.send(run.id, 'left', 'L');
      await until(async () => (await state(engine, run.id, '1.0')).state === 'waiting', 2000, 'the basin Dam holding');
      await engine.send(run.id, 'inner', 'I');
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      // the basin's copy got the payload, merged back when the basin succeeded
      expect(outcome.headwaters).to.deep.include({ left: 'L', innerKey: 'I' });
      expect(Seen.log.find((l) => l.label === 'in basin')!.hw['innerKey']).to.equal('I');
    });

    it('ends stopped when the flow is cancelled while it holds', async () => {
      const run = await start(engine, 'cancel-1', new Dam('never'), seen('after'));
      await until(async () => (await state(engine, run.id, '0')).state === 'waiting', 2000, 'the Dam holding');
      await engine.cancel(run.id, 'no longer needed');
      const outcome = await run.result();
      expect(outcome.status).to.equal('cancelled');
      const dam = await state(engine, run.id, '0');
      expect(dam.state).to.equal('fail');
      expect(dam.error?.code).to.equal('E_CANCELLED');
      expect(dam.error?.message).to.equal('dam never stopped: the flow is cancelled');
      expect(dam.error).not.to.have.property('river');
      expect(Seen.log).to.deep.equal([]);
      const err = await rejects(engine.send(run.id, 'never'));
      expect(err.code).to.equal('E_CONFLICT');
    });

    it('ends stopped, naming the river that failed as its cause, when a sibling branch fails while it holds', async () => {
      const run = await start(engine, 'sibling-fails', new ParallelRiver().append(new Dam('never')).append(new Seen({ label: 'first' }), new Breaks()));
      const outcome = await run.result();
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Dam.Breaks' });
      const dam = await state(engine, run.id, '0.0.0');
      expect(dam.state).to.equal('fail');
      expect(dam.error).to.deep.equal({ code: 'E_CANCELLED', message: 'dam never stopped: river Dam.Breaks failed', cause: { river: 'Dam.Breaks' } });
    });

    it('refuses a send with a clear code: unknown flow, empty name, a payload that is not JSON', async () => {
      expect((await rejects(engine.send('no-such-flow', 'x'))).code).to.equal('E_NOT_FOUND');
      expect((await rejects(engine.send('no-such-flow', 'x'))).message).to.include('no-such-flow');
      const run = await start(engine, 'bad-1', new Dam('x'));
      expect((await rejects(engine.send(run.id, ''))).code).to.equal('E_INVALID_ARGUMENT');
      const err = await rejects(engine.send(run.id, 'x', { when: () => 1 }));
      expect(err.code).to.equal('E_NOT_SERIALIZABLE');
      expect(err.message).to.include('message "x"');
      await engine.cancel(run.id);
    });

    if (kind.name.includes('PostgreSQL')) {
      it('opens one Dam per message when a send from another engine reads the inbox before the consumption landed', async () => {
        const client = await engines.open({ concurrency: 0 });
        const runs = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            start(engine, `twice-${i}`, new Dam('c', { key: 'k1' }), new Dam('c', { key: 'k2', timeout: 300, onTimeout: 'continue' })),
          ),
        );
        await until(
          async () => (await Promise.all(runs.map((r) => state(engine, r.id, '0')))).every((s) => s.state === 'waiting'),
          3000,
          'every first Dam holding',
        );
        // the engine that runs the flows sends the one message "c"; another engine's send makes it list the inbox
        await Promise.all(runs.map(async (r) => (await engine.send(r.id, 'c', 'only'), await client.send(r.id, 'other', 1))));
        const outcomes = await Promise.all(runs.map((r) => r.result()));
        for (const o of outcomes) expect(o.headwaters, o.requestId).to.deep.equal({ k1: 'only' });
      });
    }

    if (kind.persistent) {
      it('keeps what the rivers before it put, durable or not, across a restart while it holds', async () => {
        const run = await start(engine, 'kept-1', new Puts(), new Dam({ delay: 300 }), seen('after'));
        await until(async () => (await state(engine, run.id, '1')).state === 'waiting', 2000, 'the sleep holding');
        await engine.close();
        const next = await engines.open({ classes: [Seen, Puts] });
        await until(async () => (await next.get(run.id))?.status === 'success', 3000, 'the flow ending in the next engine');
        expect((await next.get(run.id))!.headwaters).to.deep.equal({ before: 'kept' });
        expect(Seen.log.map((l) => l.hw)).to.deep.equal([{ before: 'kept' }]);
      });

      it('survives a restart while it holds: the next engine takes a message sent to it', async () => {
        const run = await start(engine, 'restart-1', seen('before'), new Dam('resume'), seen('after'));
        await until(async () => (await state(engine, run.id, '1')).state === 'waiting', 2000, 'the Dam holding');
        await engine.close();
        const next = await engines.open({ classes: [Seen, Gated] });
        await next.send(run.id, 'resume', 42);
        await until(async () => (await next.get(run.id))?.status === 'success', 3000, 'the flow ending in the next engine');
        expect((await next.get(run.id))!.headwaters['resume']).to.equal(42);
        expect(Seen.log.map((l) => l.label)).to.deep.equal(['before', 'after']);
      });
    }
  });
}

/** A river that polls until its gate opens, every 5 ms: a flow between polls stays in the window. */
class Polled extends River {
  static riverName = 'Dam.Polled';
  static gate = false;
  update(attr: RiverAttr) {
    attr.cycleTimes = 1000;
    attr.cycleInterval = 5;
  }
  async flow() {}
  async cycle() {
    return Polled.gate;
  }
}

/** The concurrency window of an engine whose flows wait at Dams. */
function windowSpecs(kind: StoreKind): void {
  describe(`the concurrency window, on the ${kind.name}`, () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      Seen.log = [];
      Gated.gate = latch();
      Polled.gate = false;
      engine = await engines.open({ concurrency: 1, classes: [Seen, Gated, Polled] });
    });
    const held = async (run: FlowRun, streamId: string) =>
      until(async () => (await state(engine, run.id, streamId)).state === 'waiting', 2000, `the Dam of ${run.id} holding`);

    it('gives a flow held at a Dam no place in it: with concurrency 1, other flows run and end meanwhile', async () => {
      const dammed = await start(engine, 'window-dam', seen('before'), new Dam('go'), seen('after'));
      await held(dammed, '1');
      const other = await start(engine, 'window-other', seen('other'));
      expect((await within(other.result(), 2000, 'a flow started while the other is held at its Dam')).status).to.equal('success');
      // a durable sleep too, and a flow held at Dams in both branches of a parallel river
      const sleeping = await start(engine, 'window-sleep', new Dam({ delay: '1h' }));
      const branches = await start(engine, 'window-branches', new ParallelRiver().append(new Dam('left')).append(new Dam('right')));
      await until(
        async () => (await engine.get(branches.id))!.streams.filter((st) => st.kind === 'dam' && st.state === 'waiting').length === 2,
        2000,
        'both Dams of the parallel river holding',
      );
      const third = await start(engine, 'window-third', seen('third'));
      expect((await within(third.result(), 2000, 'a flow started while three are held')).status).to.equal('success');
      await engine.send(dammed.id, 'go');
      expect((await within(dammed.result(), 2000, 'the held flow, once its message came')).status).to.equal('success');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['before', 'other', 'third', 'after']);
      expect((await engine.get(sleeping.id))!.status).to.equal('running');
      await engine.cancel(sleeping.id);
      await engine.cancel(branches.id);
    });

    it('keeps a message sent to a flow still waiting in the queue: its Dam takes it once the flow runs', async () => {
      const busy = await start(engine, 'queued-busy', new Gated());
      await until(async () => (await engine.get(busy.id))!.status === 'running', 2000, 'the gated flow running');
      const queued = await start(engine, 'queued-dam', new Dam('go', { timeout: '1h' }), seen('after'));
      expect((await engine.get(queued.id))!.status).to.equal('waiting');
      await engine.send(queued.id, 'go', 'early');
      Gated.gate.release();
      const outcome = await within(queued.result(), 3000, 'the queued flow, with its message already sent');
      expect(outcome.status).to.equal('success');
      expect(Seen.log.map((l) => l.hw)).to.deep.equal([{ go: 'early' }]);
    });

    it('gives a flow whose message came its place back before any waiting flow starts', async () => {
      const dammed = await start(engine, 'resume-dam', new Dam('go'), seen('resumed'));
      await held(dammed, '0');
      const busy = await start(engine, 'resume-busy', new Gated());
      const queued = await start(engine, 'resume-queued', seen('queued'));
      await until(async () => (await engine.get(busy.id))!.status === 'running', 2000, 'the gated flow running');
      await engine.send(dammed.id, 'go');
      await new Promise((r) => setTimeout(r, 50));
      expect(Seen.log, 'the window is full: neither the resumed nor the queued flow runs').to.deep.equal([]);
      expect((await engine.get(queued.id))!.status).to.equal('waiting');
      Gated.gate.release();
      await within(Promise.all([busy.result(), dammed.result(), queued.result()]), 3000, 'the three flows');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['resumed', 'queued']);
    });

    it('ends a flow cancelled while it holds at once, past the full window, as a cancelled waiting flow', async () => {
      const dammed = await start(engine, 'cancel-dam', new Dam('go'), seen('never'));
      await held(dammed, '0');
      const busy = await start(engine, 'cancel-busy', new Gated());
      await until(async () => (await engine.get(busy.id))!.status === 'running', 2000, 'the gated flow running');
      await engine.cancel(dammed.id, 'no longer needed');
      expect((await within(dammed.result(), 1000, 'the cancelled flow, while the window is full')).status).to.equal('cancelled');
      expect((await engine.get(busy.id))!.status).to.equal('running');
      Gated.gate.release();
      expect((await within(busy.result(), 2000, 'the gated flow')).status).to.equal('success');
      expect(Seen.log).to.deep.equal([]);
    });

    it('keeps the place of a flow between polls (it is running): the next flow waits for its end', async () => {
      const polling = await start(engine, 'poll-1', new Polled());
      await until(async () => ((await engine.get(polling.id))!.streams[0]?.cycles ?? 0) >= 2, 2000, 'the river polling');
      const queued = await start(engine, 'poll-queued', seen('queued'));
      await new Promise((r) => setTimeout(r, 50));
      expect((await engine.get(queued.id))!.status).to.equal('waiting');
      Polled.gate = true;
      // (on PostgreSQL the engine claims the queued flow as the slot frees, not at its next heartbeat)
      await within(Promise.all([polling.result(), queued.result()]), 2000, 'both flows');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['queued']);
    });

    it('closes at once while a flow whose message came waits for a place', async () => {
      // a close grace far longer than the bound below: a flow left waiting for a place would hold close up for all of it
      await engine.close();
      engine = await engines.open({ concurrency: 1, classes: [Seen, Gated, Polled], closeTimeout: 5000 });
      const dammed = await start(engine, 'close-dam', new Dam('go'), seen('resumed'));
      await held(dammed, '0');
      const busy = await start(engine, 'close-busy', new Gated());
      await until(async () => (await engine.get(busy.id))!.status === 'running', 2000, 'the gated flow running');
      await engine.send(dammed.id, 'go');
      await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      Gated.gate.release(); // the gated river ends within the close grace; the resumed flow stays for recovery
      await engine.close();
      expect(Date.now() - t0, 'close waited for no place to free').to.be.below(1000);
      if (!kind.persistent) return;
      const next = await engines.open({ classes: [Seen, Gated, Polled] });
      await until(async () => (await next.get(dammed.id))?.status === 'success', 3000, 'the held flow ending in the next engine');
      expect(Seen.log.map((l) => l.label)).to.include('resumed');
    });
  });
}

describe('Dam', () => {
  for (const kind of [...STORE_KINDS, ...pgKinds('Dam specs')]) damSpecs(kind);
  for (const kind of [...STORE_KINDS, ...pgKinds('Dam window specs')]) windowSpecs(kind);

  describe('timeouts and durable sleeps (a manual clock)', () => {
    const engines = useEngines(STORE_KINDS[0]!);
    let clock: ManualClock;
    let engine: Engine;
    beforeEach(async () => {
      Seen.log = [];
      clock = new ManualClock({ startMs: 1_000_000 });
      engine = await engines.open({ classes: [Seen], clock });
    });

    it('fails the flow with E_TIMEOUT when no message comes in time, and records when it was due', async () => {
      const run = await start(engine, 'timeout-1', new Dam('approval', { timeout: '7d' }), seen('after'));
      await until(async () => (await state(engine, run.id, '0')).state === 'waiting', 2000, 'the Dam holding');
      expect((await state(engine, run.id, '0')).dueAt).to.equal(1_000_000 + 7 * 86_400_000);
      clock.advance(7 * 86_400_000);
      const outcome = await run.result();
      expect(outcome.status).to.equal('fail');
      expect(outcome.error?.code).to.equal('E_TIMEOUT');
      expect(outcome.error?.message).to.include('approval');
      expect(outcome.error, 'a Dam is no river: the error names none').not.to.have.property('river');
      const dam = await state(engine, run.id, '0');
      expect(dam.error).to.deep.equal(outcome.error);
      expect(dam.errors, "the Dam's failure is listed in its errors").to.deep.equal([outcome.error]);
      expect(Seen.log).to.deep.equal([]);
    });

    it('stops a polling river of a sibling branch saying that the Dam timed out, not that the flow was cancelled', async () => {
      class Polls extends River {
        static riverName = 'Dam.Polls';
        update(attr: RiverAttr) {
          attr.cycleTimes = 5;
          attr.cycleInterval = '2h';
        }
        cycle() {
          return false;
        }
      }
      engine.register(Polls);
      const run = await start(engine, 'timeout-sibling', new ParallelRiver().append(new Dam('approval', { timeout: '1h' })).append(new Polls()));
      await until(async () => (await state(engine, run.id, '0.0.0')).state === 'waiting', 2000, 'the Dam holding');
      await until(async () => (await state(engine, run.id, '0.1.0')).state === 'cycling', 2000, 'the river polling');
      clock.advance(3_600_000);
      const outcome = await run.result();
      expect(outcome.error?.code).to.equal('E_TIMEOUT');
      const polls = await state(engine, run.id, '0.1.0');
      expect(polls.error?.code).to.equal('E_CANCELLED');
      expect(polls.error?.message).to.equal(`river Dam.Polls stopped: the flow failed (E_TIMEOUT: ${outcome.error!.message})`);
    });

    it("goes on without the key on a timeout with onTimeout: 'continue'", async () => {
      const run = await start(engine, 'continue-1', new Dam('approval', { timeout: '1h', onTimeout: 'continue' }), seen('after'));
      await until(async () => (await state(engine, run.id, '0')).state === 'waiting', 2000, 'the Dam holding');
      clock.advance(3_600_000);
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters).not.to.have.property('approval');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['after']);
    });

    it('sleeps durably with only a delay, and opens once the time has passed', async () => {
      const run = await start(engine, 'sleep-1', new Dam({ delay: '3d' }), seen('after'));
      await until(async () => (await state(engine, run.id, '0')).state === 'waiting', 2000, 'the sleep');
      clock.advance(3 * 86_400_000 - 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(Seen.log).to.deep.equal([]);
      clock.advance(1);
      expect((await run.result()).status).to.equal('success');
      expect(Seen.log.map((l) => l.label)).to.deep.equal(['after']);
    });
  });

  describe('drawing', () => {
    it('writes and reads its blueprint, and draws its own shape in Mermaid', async () => {
      const engine = await Engine.open({ store: 'memory', logger: { level: 'silent' }, classes: [Seen] });
      try {
        const andes = new Andes(engine)
          .drawHeadwaters(new Headwaters('draw-1'))
          .drawStream(new Dam('approval', { timeout: '7d', key: 'decision', onTimeout: 'continue' }), new Dam({ delay: '3d' }), seen('x'));
        const bp = andes.toJSON();
        expect(bp.streams.slice(0, 2)).to.deep.equal([
          { dam: 'approval', timeout: '7d', key: 'decision', onTimeout: 'continue' },
          { dam: null, delay: '3d' },
        ]);
        const again = Andes.fromJSON(JSON.parse(JSON.stringify(bp)), engine);
        expect(again.toJSON()).to.deep.equal(bp);
        const run = await again.start();
        await within(
          until(async () => (await engine.get(run.id))!.streams[0]!.state === 'waiting', 2000, 'the Dam holding'),
          3000,
          'the Dam',
        );
        const mermaid = toMermaid((await engine.get(run.id))!);
        expect(mermaid).to.match(/s0\[\/"dam approval · timeout 7d<br\/>waiting"\\\]/);
        expect(mermaid).to.include('class s0 waiting');
        expect(mermaid).to.match(/s1\[\/"sleep 3d<br\/>init"\\\]/);
        await engine.cancel(run.id);
      } finally {
        await engine.close();
      }
    });

    it('refuses bad options with E_INVALID_ARGUMENT naming them, and a bad blueprint Dam with E_BLUEPRINT', () => {
      const codeOf = (f: () => unknown): unknown => {
        try {
          f();
        } catch (err) {
          return [(err as { code?: string }).code, (err as Error).message];
        }
        return 'no error';
      };
      expect(codeOf(() => new Dam(''))).to.deep.include('E_INVALID_ARGUMENT');
      expect(String(codeOf(() => new Dam('a', { timeout: 'soon' })))).to.include('timeout must be');
      expect(String(codeOf(() => new Dam('a', { onTimeout: 'retry' as never })))).to.include('onTimeout');
      expect(String(codeOf(() => new Dam('a', { delay: '1d' })))).to.include('durable sleep');
      expect(String(codeOf(() => new Dam({} as never)))).to.include('needs delay');
      expect(String(codeOf(() => new Dam({ delay: '1d', key: 'k' } as never)))).to.include('takes only delay');
      expect(String(codeOf(() => new Dam('a', { key: '__proto__' })))).to.include('__proto__');
      expect(String(codeOf(() => new Dam('a', { key: 'k\ud800' }))))
        .to.include('E_INVALID_ARGUMENT')
        .and.include('lone surrogate');
      expect(String(codeOf(() => new Dam('cut\udc00'))))
        .to.include('E_INVALID_ARGUMENT')
        .and.include('lone surrogate');
      expect(String(codeOf(() => Andes.fromJSON({ vastflow: 1, streams: [{ dam: null }] })))).to.include('E_BLUEPRINT');
    });
  });
});
