// Dam: a stream that holds its branch until a message of its name is sent to the flow (its payload
// put into the headwaters in the write that opens it), until its timeout, or, as a durable sleep,
// until its delay has passed. On every store; on PostgreSQL a send from another engine wakes the
// engine that holds the flow at once.
import { expect } from 'chai';
import { Andes, Basin, Dam, Engine, Headwaters, ManualClock, ParallelRiver, River, toMermaid, type FlowRun, type Stream } from '../../lib/index.js';
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

/** A river held until its gate opens. */
class Gated extends River {
  static riverName = 'Dam.Gated';
  static gate = latch();
  async flow() {
    await Gated.gate.promise;
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
      engine = await engines.open({ classes: [Seen, Gated] });
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
      expect(Seen.log).to.deep.equal([]);
      const err = await rejects(engine.send(run.id, 'never'));
      expect(err.code).to.equal('E_CONFLICT');
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

    if (kind.persistent) {
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

describe('Dam', () => {
  for (const kind of [...STORE_KINDS, ...pgKinds('Dam specs')]) damSpecs(kind);

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
      expect(Seen.log).to.deep.equal([]);
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
      expect(String(codeOf(() => Andes.fromJSON({ vastflow: 1, streams: [{ dam: null }] })))).to.include('E_BLUEPRINT');
    });
  });
});
