// What a river is told about the call it is in (RiverContext), and the flow's signal.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Andes, Atlantic, Basin, Engine, Headwaters, River, type FlowError, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { openEngine, runFlow, ScriptedRiver, startFlow } from '../helpers/river-helpers.js';

describe('river context', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await openEngine();
  });
  afterEach(() => engine.close());

  it('gives the flow id and the requestId of the flow', async () => {
    const river = new ScriptedRiver();
    const run = await startFlow(engine, [river], new Headwaters('order-42'));
    await run.result();
    expect(river.flowCalls).to.have.length(1);
    expect(river.flowCalls[0]?.flowId).to.equal(run.id);
    expect(river.flowCalls[0]?.requestId).to.equal('order-42');
  });

  it('gives the fresh requestId of a flow drawn without headwaters', async () => {
    const river = new ScriptedRiver();
    const run = await startFlow(engine, [river]);
    await run.result();
    expect(run.requestId).to.be.a('string').and.not.equal('');
    expect(river.flowCalls[0]?.requestId).to.equal(run.requestId);
  });

  it('names the river by its class name by default', async () => {
    let seen: string | undefined;
    class ProvisionDisk extends River {
      async flow(_hw: Headwaters, ctx: RiverContext) {
        seen = ctx.river;
      }
    }
    await runFlow(engine, [new ProvisionDisk()]);
    expect(seen).to.equal('ProvisionDisk');
  });

  it('names the river by its static riverName when it has one', async () => {
    let seen: string | undefined;
    class ProvisionDiskV2 extends River {
      static riverName = 'ProvisionDisk';
      async flow(_hw: Headwaters, ctx: RiverContext) {
        seen = ctx.river;
      }
    }
    await runFlow(engine, [new ProvisionDiskV2()]);
    expect(seen).to.equal('ProvisionDisk');
  });

  it("gives the color 'default' to a river without one", async () => {
    const river = new ScriptedRiver();
    await runFlow(engine, [river]);
    expect(river.flowCalls[0]?.color).to.equal('default');
  });

  it('gives the color set with withColor()', async () => {
    const river = new ScriptedRiver().withColor('red');
    await runFlow(engine, [river]);
    expect(river.flowCalls[0]?.color).to.equal('red');
  });

  it("gives a river inside new Basin('blue') the basin's color", async () => {
    const inside = new ScriptedRiver();
    const after = new ScriptedRiver();
    await runFlow(engine, [new Basin('blue').drawStream(inside), after]);
    expect(inside.flowCalls[0]?.color).to.equal('blue');
    expect(after.flowCalls[0]?.color).to.equal('default');
  });

  it('numbers the attempts from 1', async () => {
    const river = new ScriptedRiver({
      attr: { retryTimes: 2, retryInterval: 0 },
      flow: (_hw, _ctx, call) => {
        if (call < 3) throw new Error('again');
      },
    });
    await runFlow(engine, [river]);
    expect(river.flowCalls.map((c) => c.attempt)).to.deep.equal([1, 2, 3]);
  });

  it('gives an AbortSignal that is not aborted while the flow runs normally', async () => {
    let abortedDuringFlow: boolean | undefined;
    const river = new ScriptedRiver({
      flow: (_hw, ctx) => {
        abortedDuringFlow = ctx.signal.aborted;
      },
    });
    await runFlow(engine, [river]);
    expect(river.flowCalls[0]?.signal).to.be.instanceOf(AbortSignal);
    expect(abortedDuringFlow).to.equal(false);
  });

  it('gives a logger with info() and child()', async () => {
    const river = new ScriptedRiver({
      flow: (_hw, ctx) => {
        ctx.log.info('hello from the river');
        ctx.log.child({ step: 'inner' }).info('hello from a child');
      },
    });
    const out = await runFlow(engine, [river]);
    expect(out.status).to.equal('success');
    const log = river.flowCalls[0]!.log;
    expect(log.info).to.be.a('function');
    expect(log.child).to.be.a('function');
  });

  it('binds the logger to the flow, the river and the attempt', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logged = await Engine.open({ store: 'memory', logger: pino({ level: 'info' }, sink) });
    try {
      class Chatty extends River {
        async flow(_hw: Headwaters, ctx: RiverContext) {
          if (ctx.attempt === 1) throw new Error('first attempt fails');
          ctx.log.info('marker line');
        }
        update(attr: RiverAttr) {
          attr.retryTimes = 1;
          attr.retryInterval = 0;
        }
      }
      const run = await new Andes(logged).drawStream(new Chatty()).start();
      await run.result();
      const line = lines.find((l) => l['msg'] === 'marker line');
      expect(line, 'the river logged through the engine logger').to.not.equal(undefined);
      const values = Object.values(line!);
      expect(values).to.include(run.id);
      expect(values).to.include('Chatty');
      expect(values).to.include(2);
    } finally {
      await logged.close();
    }
  });

  describe('the flow signal', () => {
    it('is aborted by the time Atlantic.fail() runs after a river failed', async () => {
      let abortedInFail: boolean | undefined;
      let failCode: string | undefined;
      class Watch extends Atlantic {
        fail(hw: Headwaters, error: FlowError) {
          abortedInFail = hw.signal.aborted;
          failCode = error.code;
        }
      }
      const river = new ScriptedRiver({
        flow: () => {
          throw new Error('broken');
        },
      });
      const run = await new Andes(engine).drawStream(river).drawAtlantic(new Watch()).start();
      const out = await run.result();
      expect(out.status).to.equal('fail');
      expect(failCode).to.equal('E_RIVER_FAILED');
      expect(abortedInFail).to.equal(true);
    });

    it('is not aborted in Atlantic.success() after the flow succeeded', async () => {
      let abortedInSuccess: boolean | undefined;
      class Watch extends Atlantic {
        success(hw: Headwaters) {
          abortedInSuccess = hw.signal.aborted;
        }
      }
      const run = await new Andes(engine).drawStream(new ScriptedRiver()).drawAtlantic(new Watch()).start();
      expect((await run.result()).status).to.equal('success');
      expect(abortedInSuccess).to.equal(false);
    });

    it('aborts the hw.signal an earlier river took, once a later river fails the flow', async () => {
      let hwSignal: AbortSignal | undefined;
      const first = new ScriptedRiver({ flow: (hw) => void (hwSignal = hw.signal) });
      const second = new ScriptedRiver({
        flow: () => {
          throw new Error('fails later');
        },
      });
      await runFlow(engine, [first, second]);
      expect(hwSignal).to.be.instanceOf(AbortSignal);
      expect(hwSignal?.aborted).to.equal(true);
    });

    it('aborts the hw.signal the caller took before start(): the same signal the rivers see', async () => {
      const hw = new Headwaters('signal-before-start');
      const early = hw.signal;
      const reasons: unknown[] = [];
      early.addEventListener('abort', () => reasons.push(early.reason));
      let inFlow: AbortSignal | undefined;
      const run = await startFlow(
        engine,
        [new ScriptedRiver({ flow: (h) => void (inFlow = h.signal) }), new ScriptedRiver({ flow: () => Promise.reject(new Error('boom')) })],
        hw,
      );
      expect((await run.result()).status).to.equal('fail');
      expect(inFlow, 'the signal a river reads').to.equal(early);
      expect(early.aborted).to.equal(true);
      expect(reasons, 'its listener ran once').to.have.length(1);
      expect(hw.signal).to.equal(early);
    });

    it('aborts the hw.signal the caller took before start() when the flow is cancelled', async () => {
      const hw = new Headwaters('signal-cancelled');
      const early = hw.signal;
      let entered: () => void = () => undefined;
      const inFlow = new Promise<void>((resolve) => (entered = resolve));
      const run = await startFlow(
        engine,
        [new ScriptedRiver({ flow: (_h, ctx) => (entered(), new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))) })],
        hw,
      );
      await inFlow;
      await engine.cancel(run.id, 'enough');
      expect((await run.result()).status).to.equal('cancelled');
      expect(early.aborted).to.equal(true);
    });
  });
});
