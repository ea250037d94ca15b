// The engine's API: get and list (on both stores), Engine.open's options, close, the default
// engine, the registry, the checks made at start(), Headwaters' JSON rules, throwing Atlantic hooks.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Andes,
  Atlantic,
  Basin,
  Engine,
  Fork,
  Headwaters,
  ParallelRiver,
  River,
  type FlowRun,
  type RiverAttr,
  type RiverContext,
  type Stream,
} from '../../lib/index.js';
import { LevelStore, PostgresStore, type Store } from '../../lib/index.js';
import { freshSchema, HAS_PG, PG_URL, whenPg } from '../helpers/postgres.js';
import { forEachStore, latch, rejects, silent, sleep, STORE_KINDS, thrown, until, useEngines, within, type Latch } from '../helpers/stores.js';

class Plain extends River {}
class Other extends River {}

/** Fails its first attempt, then succeeds. */
class Retrying extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 1;
    attr.retryInterval = 1;
  }
  async flow(_hw: Headwaters, ctx: RiverContext) {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
  }
}

/** Polls twice: done on the second poll. */
class Polling extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 3;
    attr.cycleInterval = 1;
  }
  async cycle(_hw: Headwaters, ctx: RiverContext) {
    return ctx.cycle === 2;
  }
}

class InParallel extends River {}
class InBasin extends River {}
class Chosen extends River {}
class NotChosen extends River {}
class ChooseX extends Fork {
  choose() {
    return 'x';
  }
}

class Broken extends River {
  async flow() {
    throw new Error('broken');
  }
}

/** Waits for the gate in its static field, then puts 'done'. */
class Held extends River {
  static gate: Latch = latch();
  async flow(hw: Headwaters) {
    await within(Held.gate.promise, 2000, 'the gate');
    hw.put('done', true);
  }
}

forEachStore((kind) => {
  describe('engine.get and engine.list', () => {
    const engines = useEngines(kind);
    let engine: Engine;
    beforeEach(async () => {
      Held.gate = latch();
      engine = await engines.open();
    });

    const start = (streams: Stream[], hw?: Headwaters<any>): Promise<FlowRun> => {
      const andes = new Andes(engine).drawStream(...streams);
      if (hw !== undefined) andes.drawHeadwaters(hw);
      return andes.start();
    };

    describe('get', () => {
      it('returns the id, requestId, status, headwaters and times of a finished flow', async () => {
        const before = Date.now();
        class Put extends River {
          async flow(hw: Headwaters) {
            hw.put('vmId', 'vm-1');
          }
        }
        const run = await start([new Put()], new Headwaters('order-42').put('vmName', 'my-vm'));
        await run.result();
        const after = Date.now();
        const snap = await engine.get(run.id);
        expect(snap).to.not.equal(undefined);
        expect(snap!.id).to.equal(run.id);
        expect(snap!.requestId).to.equal('order-42');
        expect(snap!.status).to.equal('success');
        expect(snap!.headwaters).to.deep.equal({ vmName: 'my-vm', vmId: 'vm-1' });
        expect(snap!.error).to.equal(undefined);
        expect(snap!.createdAt).to.be.a('number').within(before, after);
        expect(snap!.updatedAt).to.be.a('number').within(snap!.createdAt, after);
      });

      it('returns every stream in drawing order with its kind, name, color, state, attempts, cycles and errors', async () => {
        const flow = [
          new Retrying().withColor('red'),
          new Polling(),
          new ParallelRiver().append(new InParallel()),
          new Basin('blue').drawStream(new InBasin()),
          new ChooseX().branch('x', new Chosen()).branch('y', new NotChosen()),
        ];
        const run = await start(flow);
        const outcome = await run.result();
        expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
        const streams = (await engine.get(run.id))!.streams;
        expect(streams.map((s) => `${s.kind}:${s.state}`)).to.deep.equal([
          'river:success',
          'river:success',
          'parallel:success',
          'river:success',
          'basin:success',
          'river:success',
          'fork:success',
          'river:success',
          'river:skipped',
        ]);
        const rivers = streams.filter((s) => s.kind === 'river');
        expect(rivers.map((s) => s.name)).to.deep.equal(['Retrying', 'Polling', 'InParallel', 'InBasin', 'Chosen', 'NotChosen']);
        const [retrying, polling, inParallel, inBasin, , notChosen] = rivers;
        expect(retrying).to.include({ color: 'red', attempts: 2, cycles: 0 });
        expect(retrying!.errors).to.have.length(1);
        expect(retrying!.errors[0]).to.include({ code: 'E_RIVER_FAILED', river: 'Retrying' });
        expect(retrying!.errors[0]!.message).to.contain('first attempt fails');
        expect(polling).to.include({ attempts: 1, cycles: 2 });
        expect(polling!.errors).to.deep.equal([]);
        expect(inParallel).to.include({ attempts: 1, cycles: 0 });
        expect(inBasin).to.include({ color: 'blue', attempts: 1 });
        expect(streams.find((s) => s.kind === 'basin')).to.include({ color: 'blue' });
        expect(streams.find((s) => s.kind === 'fork')).to.include({ name: 'ChooseX', choice: 'x' });
        expect(notChosen).to.include({ attempts: 0, cycles: 0 });
        for (const s of streams) {
          expect(s.name, `name of ${s.kind}`).to.be.a('string').and.not.equal('');
          expect(s.color, `color of ${s.name}`).to.be.a('string').and.not.equal('');
          expect(s.errors, `errors of ${s.name}`).to.be.an('array');
        }
      });

      it('shows a running flow: its river running and the next one not started', async () => {
        const run = await start([new Held(), new Plain()]);
        await until(async () => (await engine.get(run.id))?.streams[0]?.state === 'running', 1000, 'the river running');
        const snap = await engine.get(run.id);
        expect(snap!.status).to.equal('running');
        expect(snap!.streams[0]).to.include({ name: 'Held', attempts: 1 });
        expect(snap!.streams[1]).to.include({ name: 'Plain', state: 'init', attempts: 0 });
        Held.gate.release();
        await run.result();
        expect((await engine.get(run.id))!.streams.map((s) => s.state)).to.deep.equal(['success', 'success']);
      });

      it("shows a failed flow's error with the code and the river", async () => {
        const run = await start([new Broken(), new Plain()]);
        await run.result();
        const snap = await engine.get(run.id);
        expect(snap!.status).to.equal('fail');
        expect(snap!.error).to.include({ code: 'E_RIVER_FAILED', river: 'Broken' });
        expect(snap!.streams.map((s) => s.state)).to.deep.equal(['fail', 'skipped']);
        expect(snap!.streams[0]!.errors[0]).to.include({ code: 'E_RIVER_FAILED' });
      });

      it('returns undefined for an unknown id', async () => {
        expect(await engine.get('no-such-flow')).to.equal(undefined);
        await (await start([new Plain()])).result();
        expect(await engine.get('no-such-flow')).to.equal(undefined);
      });

      it('returns one flow for a requestId started twice', async () => {
        const first = await start([new Plain()], new Headwaters('same-request'));
        await first.result();
        const second = await start([new Other()], new Headwaters('same-request'));
        expect(second.id).to.equal(first.id);
        const snap = await engine.get(second.id);
        expect(snap!.streams.map((s) => s.name)).to.deep.equal(['Plain']);
        expect((await engine.list()).map((f) => f.requestId)).to.deep.equal(['same-request']);
      });

      if (kind.persistent) {
        it('returns the same snapshot from an engine opened again on the store', async () => {
          const run = await start([new Plain()], new Headwaters('kept').put('k', 1));
          await run.result();
          const before = await engine.get(run.id);
          await engine.close();
          engine = await engines.open();
          expect(await engine.get(run.id)).to.deep.equal(before);
          expect((await engine.list()).map((f) => f.id)).to.deep.equal([run.id]);
        });
      }
    });

    describe('list', () => {
      it('returns nothing on an empty store', async () => {
        expect(await engine.list()).to.deep.equal([]);
      });

      it('returns each flow as { id, requestId, status, createdAt, updatedAt }', async () => {
        const run = await start([new Plain()], new Headwaters('listed'));
        await run.result();
        const snap = await engine.get(run.id);
        const [summary] = await engine.list();
        expect(summary).to.include({ id: run.id, requestId: 'listed', status: 'success', createdAt: snap!.createdAt, updatedAt: snap!.updatedAt });
      });

      it('lists flows newest first', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const run = await start([new Plain()]);
          await run.result();
          ids.push(run.id);
          await sleep(3); // distinct creation times
        }
        const listed = await engine.list();
        expect(listed.map((f) => f.id)).to.deep.equal([...ids].reverse());
        for (let i = 1; i < listed.length; i++) expect(listed[i - 1]!.createdAt).to.be.at.least(listed[i]!.createdAt);
      });

      it('lists flows started within the same millisecond newest first too', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await start([new Plain()])).id);
        const listed = await engine.list();
        expect(listed.map((f) => f.id)).to.deep.equal([...ids].reverse());
      });

      it('filters by status', async () => {
        const ok1 = await start([new Plain()]);
        const bad = await start([new Broken()]);
        const ok2 = await start([new Plain()]);
        const running = await start([new Held()]);
        await Promise.all([ok1.result(), bad.result(), ok2.result()]);
        await until(async () => (await engine.get(running.id))?.streams[0]?.state === 'running', 1000, 'the held river running');
        expect((await engine.list({ status: 'success' })).map((f) => f.id)).to.have.members([ok1.id, ok2.id]);
        expect((await engine.list({ status: 'fail' })).map((f) => f.id)).to.deep.equal([bad.id]);
        expect((await engine.list({ status: 'running' })).map((f) => f.id)).to.deep.equal([running.id]);
        expect(await engine.list({ status: 'cancelled' })).to.deep.equal([]);
        for (const f of await engine.list({ status: 'success' })) expect(f.status).to.equal('success');
        Held.gate.release();
        await running.result();
      });

      it('returns at most `limit` flows, the newest ones', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const run = await start([new Plain()]);
          await run.result();
          ids.push(run.id);
          await sleep(3);
        }
        expect((await engine.list({ limit: 2 })).map((f) => f.id)).to.deep.equal([ids[3], ids[2]]);
        expect(await engine.list({ limit: 10 })).to.have.length(4);
      });

      it('applies the limit after the status filter', async () => {
        const okIds: string[] = [];
        for (let i = 0; i < 3; i++) {
          const ok = await start([new Plain()]);
          await ok.result();
          okIds.push(ok.id);
          await (await start([new Broken()])).result();
          await sleep(3);
        }
        expect((await engine.list({ status: 'success', limit: 2 })).map((f) => f.id)).to.deep.equal([okIds[2], okIds[1]]);
      });
    });
  });

  describe('engine.workers', () => {
    const engines = useEngines(kind);

    it('lists this engine, with a recent heartbeat and its running flows, after the lease time has passed', async () => {
      Held.gate = latch();
      const engine = await engines.open({ worker: { id: 'me', leaseTime: '100ms', heartbeat: '20ms' } });
      const run = await new Andes(engine).drawStream(new Held()).start();
      await until(async () => (await engine.get(run.id))?.streams[0]?.state === 'running', 1000, 'the river running');
      await sleep(250);
      const before = Date.now();
      const workers = await engine.workers();
      expect(workers).to.have.length(1);
      expect(workers[0]).to.include({ id: 'me', running: 1 });
      expect(workers[0]!.heartbeatAt).to.be.within(before - 100, Date.now());
      Held.gate.release();
      await run.result();
      const [after] = await engine.workers();
      expect(after).to.include({ id: 'me', running: 0 });
    });
  });
});

describe('engine API', () => {
  const engines = useEngines(STORE_KINDS[0]!);

  describe('Engine.open options', () => {
    it('rejects an unknown option with E_INVALID_ARGUMENT naming it', async () => {
      const err = await rejects(Engine.open({ store: 'memory', logger: silent, concurency: 2 } as never));
      expect(err).to.have.property('code', 'E_INVALID_ARGUMENT');
      expect(err.message).to.contain('concurency');
    });

    for (const concurrency of [0, -1, 1.5]) {
      it(`rejects concurrency ${concurrency} with E_INVALID_ARGUMENT naming the option`, async () => {
        const err = await rejects(Engine.open({ store: 'memory', logger: silent, concurrency }));
        expect(err).to.have.property('code', 'E_INVALID_ARGUMENT');
        expect(err.message).to.contain('concurrency');
      });
    }

    it('rejects a recover that is not a boolean with E_INVALID_ARGUMENT naming the option', async () => {
      const err = await rejects(Engine.open({ store: 'memory', logger: silent, recover: 'yes' as never }));
      expect(err).to.have.property('code', 'E_INVALID_ARGUMENT');
      expect(err.message).to.contain('recover');
    });

    it('rejects pino options of an unknown level with E_INVALID_ARGUMENT naming logger.level and the levels', async () => {
      const err = await rejects(Engine.open({ store: 'memory', logger: { level: 'nope' } }));
      expect(err).to.have.property('code', 'E_INVALID_ARGUMENT');
      expect(err.message).to.contain('logger.level').and.to.contain('"nope"').and.to.contain('warn');
    });

    it('takes pino options with a custom level', async () => {
      const engine = await engines.open({ logger: { level: 'audit', customLevels: { audit: 35 } } });
      expect(await engine.list()).to.deep.equal([]);
    });

    it('rejects classes that are not River, Fork or Atlantic classes with E_INVALID_ARGUMENT naming the option', async () => {
      const err = await rejects(Engine.open({ store: 'memory', logger: silent, classes: [class NotARiver {}] as never }));
      expect(err).to.have.property('code', 'E_INVALID_ARGUMENT');
      expect(err.message).to.contain('classes');
    });

    it('opens with concurrency 1', async () => {
      const engine = await engines.open({ concurrency: 1 });
      expect((await (await new Andes(engine).drawStream(new Plain()).start()).result()).status).to.equal('success');
    });
  });

  describe('one engine per store object', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-held-'));
    const held = freshSchema('held');
    const kinds: Array<[string, () => Store]> = [
      ['a LevelStore on a directory', () => LevelStore.at(dir)],
      ['the memory store', () => LevelStore.memory()],
      ...whenPg<[string, () => Store]>('one PostgresStore object under two engines', [
        ['a PostgresStore', () => new PostgresStore({ connectionString: PG_URL, schema: held.schema })],
      ]),
    ];
    after(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (HAS_PG) await held.drop();
    });
    for (const [name, make] of kinds)
      it(`refuses a second Engine.open on ${name} an open engine holds (E_STORE_LOCKED), and leaves the first engine as it was`, async () => {
        const store = make();
        const first = await Engine.open({ store, logger: silent, classes: [Plain] });
        try {
          const err = await rejects(Engine.open({ store, logger: silent, classes: [Plain] }));
          expect(err.code).to.equal('E_STORE_LOCKED');
          expect(err.message).to.contain('held by another open engine');
          expect((await (await new Andes(first).drawStream(new Plain()).start()).result()).status).to.equal('success');
        } finally {
          await first.close();
        }
      });
  });

  describe('close', () => {
    it('makes start() reject with E_CLOSED', async () => {
      const engine = await engines.open();
      await engine.close();
      const err = await rejects(new Andes(engine).drawStream(new Plain()).start());
      expect(err).to.have.property('code', 'E_CLOSED');
    });
  });

  describe('Engine.default()', () => {
    let dir: string;
    let saved: { db: string | undefined; level: string | undefined };
    let opened: Engine | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-'));
      saved = { db: process.env['VASTFLOW_DB'], level: process.env['VASTFLOW_LOG_LEVEL'] };
      process.env['VASTFLOW_DB'] = dir;
      process.env['VASTFLOW_LOG_LEVEL'] = 'silent';
    });
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
      const restore = (key: string, value: string | undefined) => {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      };
      restore('VASTFLOW_DB', saved.db);
      restore('VASTFLOW_LOG_LEVEL', saved.level);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('returns the same engine twice, also to calls made at once', async () => {
      const [a, b] = await Promise.all([Engine.default(), Engine.default()]);
      opened = a;
      const c = await Engine.default();
      expect(a).to.be.instanceOf(Engine);
      expect(b).to.equal(a);
      expect(c).to.equal(a);
    });

    it('is the engine a bare Andes runs on, with its store in VASTFLOW_DB', async () => {
      class OnDefault extends River {}
      const run = await new Andes().drawHeadwaters(new Headwaters('on-default')).drawStream(new OnDefault()).start();
      opened = await Engine.default();
      expect((await run.result()).status).to.equal('success');
      expect(await opened.get(run.id)).to.include({ requestId: 'on-default' });
      await opened.close();
      opened = undefined;
      const again = await engines.open({ store: dir });
      expect(await again.get(run.id)).to.include({ requestId: 'on-default', status: 'success' });
    });
  });

  describe('register', () => {
    class CreateVm extends River {
      static riverName = 'CreateVm';
    }
    class CreateVmV2 extends River {
      static riverName = 'CreateVm';
    }

    it('throws E_DUPLICATE_NAME for two different classes with the same static riverName', async () => {
      const engine = await engines.open();
      engine.register(CreateVm);
      const err = thrown(() => engine.register(CreateVmV2));
      expect(err).to.have.property('code', 'E_DUPLICATE_NAME');
      expect(err.message).to.contain('CreateVm');
    });

    it('accepts the same class registered twice', async () => {
      const engine = await engines.open();
      engine.register(CreateVm);
      expect(() => engine.register(CreateVm)).to.not.throw();
    });

    it('rejects Engine.open with two classes under one name with E_DUPLICATE_NAME', async () => {
      const err = await rejects(Engine.open({ store: 'memory', logger: silent, classes: [CreateVm, CreateVmV2] }));
      expect(err).to.have.property('code', 'E_DUPLICATE_NAME');
    });

    it('leaves a LevelDB directory free after Engine.open rejected two classes under one name', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-'));
      try {
        const err = await rejects(Engine.open({ store: dir, logger: silent, classes: [CreateVm, CreateVmV2] }));
        expect(err).to.have.property('code', 'E_DUPLICATE_NAME');
        const engine = await Engine.open({ store: dir, logger: silent, classes: [CreateVm] });
        await engine.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('rejects start() of a flow that draws two different classes under one name with E_DUPLICATE_NAME', async () => {
      const engine = await engines.open();
      const err = await rejects(new Andes(engine).drawStream(new CreateVm(), new CreateVmV2()).start());
      expect(err).to.have.property('code', 'E_DUPLICATE_NAME');
      expect(await engine.list()).to.deep.equal([]);
    });

    it('rejects start() of a flow whose class takes a name already registered by another class', async () => {
      const engine = await engines.open({ classes: [CreateVm] });
      const err = await rejects(new Andes(engine).drawStream(new CreateVmV2()).start());
      expect(err).to.have.property('code', 'E_DUPLICATE_NAME');
    });
  });

  describe('checks at start()', () => {
    let engine: Engine;
    beforeEach(async () => {
      engine = await engines.open();
    });

    const startRejects = async (andes: Andes, code: string) => {
      const err = await rejects(andes.start());
      expect(err).to.have.property('code', code);
      expect(await engine.list(), 'nothing recorded').to.deep.equal([]);
      return err;
    };
    class Pick extends Fork {
      choose() {
        return 'a';
      }
    }

    describe('E_EMPTY_FLOW', () => {
      it('rejects a flow without streams', async () => {
        await startRejects(new Andes(engine), 'E_EMPTY_FLOW');
      });
      it('rejects a parallel river without branches', async () => {
        await startRejects(new Andes(engine).drawStream(new ParallelRiver()), 'E_EMPTY_FLOW');
      });
      it('rejects a parallel river with an empty branch', async () => {
        await startRejects(new Andes(engine).drawStream(new ParallelRiver().append(new Plain()).append()), 'E_EMPTY_FLOW');
      });
      it('rejects an empty basin', async () => {
        await startRejects(new Andes(engine).drawStream(new Plain(), new Basin('blue')), 'E_EMPTY_FLOW');
      });
      it('rejects a fork with an empty branch', async () => {
        await startRejects(new Andes(engine).drawStream(new Pick().branch('a', new Plain()).branch('b')), 'E_EMPTY_FLOW');
      });
      it('rejects a fork without branches', async () => {
        await startRejects(new Andes(engine).drawStream(new Pick()), 'E_EMPTY_FLOW');
      });
      it('rejects an empty basin nested in a parallel river', async () => {
        await startRejects(new Andes(engine).drawStream(new ParallelRiver().append(new Plain()).append(new Basin())), 'E_EMPTY_FLOW');
      });
    });

    describe('E_DUPLICATE_STREAM', () => {
      it('rejects a river instance drawn twice in the flow', async () => {
        const r = new Plain();
        await startRejects(new Andes(engine).drawStream(r, r), 'E_DUPLICATE_STREAM');
      });
      it('rejects a river instance drawn in two parallel branches', async () => {
        const r = new Plain();
        await startRejects(new Andes(engine).drawStream(new ParallelRiver().append(r).append(r)), 'E_DUPLICATE_STREAM');
      });
      it('rejects a river instance drawn in a basin and after it', async () => {
        const r = new Plain();
        await startRejects(new Andes(engine).drawStream(new Basin().drawStream(r), r), 'E_DUPLICATE_STREAM');
      });
      it('rejects a river instance drawn in two fork branches', async () => {
        const r = new Plain();
        await startRejects(new Andes(engine).drawStream(new Pick().branch('a', r).branch('b', r)), 'E_DUPLICATE_STREAM');
      });
      it('rejects a basin drawn twice', async () => {
        const b = new Basin().drawStream(new Plain());
        await startRejects(new Andes(engine).drawStream(b, b), 'E_DUPLICATE_STREAM');
      });
      it('accepts two instances of one class', async () => {
        const outcome = await (await new Andes(engine).drawStream(new Plain(), new Plain()).start()).result();
        expect(outcome.status).to.equal('success');
      });
    });
  });

  describe('Headwaters', () => {
    class Price {
      amount = 3;
    }
    const bad: Array<[string, unknown]> = [
      ['undefined', undefined],
      ['a function', () => 1],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['a symbol', Symbol('s')],
      ['a bigint', 10n],
      ['a Date', new Date(0)],
      ['a Map', new Map([['a', 1]])],
      ['a class instance', new Price()],
    ];
    for (const [what, value] of bad) {
      it(`put throws E_NOT_SERIALIZABLE naming the key for ${what}`, () => {
        const hw = new Headwaters();
        const err = thrown(() => hw.put('the_key', value as never));
        expect(err).to.have.property('code', 'E_NOT_SERIALIZABLE');
        expect(err.message).to.contain('the_key');
        expect(hw.has('the_key')).to.equal(false);
      });
    }

    it('keeps the values of each Headwaters its own, however fresh', () => {
      const a = new Headwaters();
      const b = new Headwaters();
      a.put('k', 1).tmpPut('t', 'transient');
      b.del('k');
      expect(b.has('k')).to.equal(false);
      expect(b.keys()).to.deep.equal([]);
      expect(b.tmpGet('t')).to.equal(undefined);
      expect(new Headwaters().toJSON()).to.deep.equal({});
      expect(a.toJSON()).to.deep.equal({ k: 1 });
    });

    it('put throws E_NOT_SERIALIZABLE for a cycle, naming the key', () => {
      const node: Record<string, unknown> = { name: 'a' };
      node['self'] = node;
      const err = thrown(() => new Headwaters().put('graph', node as never));
      expect(err).to.have.property('code', 'E_NOT_SERIALIZABLE');
      expect(err.message).to.contain('graph');
    });

    it('names the path inside the value: items[1].price', () => {
      const order = { items: [{ price: 1 }, { price: NaN }] };
      const err = thrown(() => new Headwaters().put('order', order as never));
      expect(err).to.have.property('code', 'E_NOT_SERIALIZABLE');
      expect(err.message).to.contain('order').and.to.contain('items[1].price');
    });

    it('names the path of a Date deep in objects and arrays: a.b[0][1].when', () => {
      const value = { a: { b: [[1, { when: new Date(0) }]] } };
      const err = thrown(() => new Headwaters().put('nested', value as never));
      expect(err.message).to.contain('a.b[0][1].when');
    });

    it('names the path of a cycle inside the value', () => {
      const child: Record<string, unknown> = {};
      const root = { list: [child] };
      child['back'] = root;
      const err = thrown(() => new Headwaters().put('tree', root as never));
      expect(err).to.have.property('code', 'E_NOT_SERIALIZABLE');
      expect(err.message).to.contain('list[0].back');
    });

    it('keeps the old value of a key when a put of a bad value throws', () => {
      const hw = new Headwaters().put('k', 'old');
      thrown(() => hw.put('k', { bad: undefined } as never));
      expect(hw.get('k')).to.equal('old');
    });

    it('accepts every JSON value: strings, finite numbers, booleans, null, arrays and plain objects', () => {
      const value = { s: 'x', n: -1.5, t: true, f: false, z: null, list: [1, 'a', [null]], obj: { deep: { er: [] } } };
      const hw = new Headwaters().put('json', value);
      expect(hw.get('json')).to.deep.equal(value);
    });

    it("put stores a copy: later changes to the caller's object do not leak in", () => {
      const order = { items: [{ sku: 'a', qty: 1 }], note: 'first' };
      const hw = new Headwaters().put('order', order);
      order.items[0]!.qty = 99;
      order.items.push({ sku: 'b', qty: 2 });
      order.note = 'changed';
      expect(hw.get('order')).to.deep.equal({ items: [{ sku: 'a', qty: 1 }], note: 'first' });
      expect(hw.toJSON()).to.deep.equal({ order: { items: [{ sku: 'a', qty: 1 }], note: 'first' } });
    });

    it('toJSON returns a copy: changing it does not change the headwaters', () => {
      const hw = new Headwaters().put('order', { qty: 1 });
      const snapshot = hw.toJSON() as { order: { qty: number } };
      snapshot.order.qty = 2;
      expect(hw.get('order')).to.deep.equal({ qty: 1 });
    });

    it('throws E_INVALID_ARGUMENT for an empty requestId', () => {
      expect(thrown(() => new Headwaters(''))).to.have.property('code', 'E_INVALID_ARGUMENT');
    });

    it('compiles Headwaters<T> with an interface with optional keys, typing get and put', async () => {
      interface Order {
        id: string;
        qty?: number;
        tags?: string[];
      }
      const hw = new Headwaters<Order>('typed-order').put('id', 'o-1').put('qty', 2);
      const id: string | undefined = hw.get('id');
      const qty: number | undefined = hw.get('qty');
      expect([id, qty]).to.deep.equal(['o-1', 2]);

      const scratch = new Headwaters<Order>();
      // @ts-expect-error qty is a number
      scratch.put('qty', 'two');
      // @ts-expect-error not a key of Order
      scratch.put('colour', 'red');
      // @ts-expect-error get of a key that Order does not have
      scratch.get('colour');

      class AddTag extends River {
        async flow(h: Headwaters<Order>) {
          h.put('tags', [...(h.get('tags') ?? []), `qty-${h.get('qty') ?? 0}`]);
        }
      }
      const engine = await engines.open();
      const outcome = await (await new Andes(engine).drawHeadwaters(hw).drawStream(new AddTag()).start()).result();
      expect(outcome.headwaters).to.deep.equal({ id: 'o-1', qty: 2, tags: ['qty-2'] });
    });
  });

  describe('an Atlantic hook that throws', () => {
    it('leaves the status of a flow that succeeded at success', async () => {
      class Throwing extends Atlantic {
        success(): void {
          throw new Error('hook broke');
        }
      }
      const engine = await engines.open();
      const run = await new Andes(engine).drawStream(new Plain()).drawAtlantic(new Throwing()).start();
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.error).to.equal(undefined);
      const snap = await engine.get(run.id);
      expect(snap!.status).to.equal('success');
      expect(snap!.atlantic).to.deep.equal({ hook: 'success', done: true, error: { code: 'E_RIVER_FAILED', message: 'Atlantic.success threw: hook broke' } });
      expect((await engine.list({ status: 'success' })).map((f) => f.id)).to.deep.equal([run.id]);
    });

    it('shows in engine.get() which hook ran and that it ended cleanly', async () => {
      const engine = await engines.open();
      const run = await new Andes(engine).drawStream(new Broken()).start();
      await run.result();
      expect((await engine.get(run.id))!.atlantic).to.deep.equal({ hook: 'fail', done: true });
    });

    it('leaves the status and the error of a flow that failed as they were', async () => {
      class Throwing extends Atlantic {
        async fail(): Promise<void> {
          throw new Error('hook broke');
        }
      }
      const engine = await engines.open();
      const run = await new Andes(engine).drawStream(new Broken()).drawAtlantic(new Throwing()).start();
      const outcome = await run.result();
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Broken' });
      const snap = await engine.get(run.id);
      expect(snap!.status).to.equal('fail');
      expect(snap!.error).to.include({ code: 'E_RIVER_FAILED', river: 'Broken' });
    });

    it('runs the hook once', async () => {
      let calls = 0;
      class Throwing extends Atlantic {
        success(): void {
          calls++;
          throw new Error('hook broke');
        }
      }
      const engine = await engines.open();
      await (await new Andes(engine).drawStream(new Plain()).drawAtlantic(new Throwing()).start()).result();
      await sleep(5);
      expect(calls).to.equal(1);
    });
  });
});
