// The cycle: after flow(), cycle() polls until it returns true, at most cycleTimes times.
import { expect } from 'chai';
import { Engine, Headwaters, LevelStore, ManualClock, type EngineOptions, type FlowChange } from '../../lib/index.js';
import { openEngine, payloads, recordEvents, runFlow, ScriptedRiver, startFlow, until } from '../helpers/river-helpers.js';
import { overriding } from '../helpers/stores.js';

describe('river cycles', () => {
  let engine: Engine | undefined;
  const open = async (options: EngineOptions = {}) => (engine = await openEngine(options));
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('calls cycle() until it returns true, then the river succeeds', async () => {
    const e = await open();
    const events = recordEvents(e);
    const river = new ScriptedRiver({
      attr: { cycleTimes: 10, cycleInterval: 0 },
      cycle: (_hw, _ctx, call) => call === 3,
    });
    const run = await startFlow(e, [river]);
    const out = await run.result();
    expect(out.status).to.equal('success');
    expect(river.flowCalls).to.have.length(1);
    expect(river.cycleCalls).to.have.length(3);
    expect(payloads(events, 'river:cycle').map((p) => [p.cycle, p.done])).to.deep.equal([
      [1, false],
      [2, false],
      [3, true],
    ]);
    const snap = await e.get(run.id);
    expect(snap?.streams[0]?.state).to.equal('success');
    expect(snap?.streams[0]?.cycles).to.equal(3);
  });

  it('ends the cycle on the first true even when it comes on the first poll', async () => {
    const e = await open();
    const river = new ScriptedRiver({ attr: { cycleTimes: 5, cycleInterval: 0 }, cycle: () => true });
    const run = await startFlow(e, [river]);
    expect((await run.result()).status).to.equal('success');
    expect(river.cycleCalls).to.have.length(1);
    expect((await e.get(run.id))?.streams[0]?.cycles).to.equal(1);
  });

  it('waits cycleInterval before each poll, the first one included (ManualClock)', async () => {
    const clock = new ManualClock();
    const e = await open({ clock });
    const river = new ScriptedRiver({
      attr: { cycleTimes: 3, cycleInterval: '2s' },
      cycle: (_hw, _ctx, call) => call === 3,
    });
    const run = await startFlow(e, [river]);
    await until(() => river.flowCalls.length === 1);
    for (let poll = 1; poll <= 3; poll++) {
      await clock.sleeping();
      if (poll === 1) {
        // the state change is written in the background: wait for it to reach the store
        await until(async () => (await e.get(run.id))?.streams[0]?.state === 'cycling', 1000, 'state cycling in the store');
      }
      await clock.advance(1999);
      expect(river.cycleCalls, `poll ${poll} came before cycleInterval elapsed`).to.have.length(poll - 1);
      await clock.advance(1);
      await until(() => river.cycleCalls.length === poll, 1000, `poll ${poll} once cycleInterval elapsed`);
    }
    expect((await run.result()).status).to.equal('success');
  });

  it('waits the default cycleInterval of 1s when none is set (ManualClock)', async () => {
    const clock = new ManualClock();
    const e = await open({ clock });
    const river = new ScriptedRiver({ attr: { cycleTimes: 1 }, cycle: () => true });
    const run = await startFlow(e, [river]);
    await until(() => river.flowCalls.length === 1);
    await clock.sleeping();
    await clock.advance(999);
    expect(river.cycleCalls).to.have.length(0);
    await clock.advance(1);
    expect((await run.result()).status).to.equal('success');
    expect(river.cycleCalls).to.have.length(1);
  });

  it('fails with E_CYCLE_EXHAUSTED after cycleTimes polls that all return false', async () => {
    const e = await open();
    const events = recordEvents(e);
    const river = new ScriptedRiver({
      attr: { cycleTimes: 3, cycleInterval: 0, retryTimes: 2, retryInterval: 0 },
      cycle: () => false,
    });
    const run = await startFlow(e, [river]);
    const out = await run.result();
    expect(river.cycleCalls).to.have.length(3);
    expect(payloads(events, 'river:cycle').map((p) => p.done)).to.deep.equal([false, false, false]);
    expect(river.flowCalls, 'an exhausted cycle does not retry flow()').to.have.length(1);
    expect(out.status).to.equal('fail');
    expect(out.error?.code).to.equal('E_CYCLE_EXHAUSTED');
    expect(out.error?.river).to.equal('ScriptedRiver');
    const snap = await e.get(run.id);
    expect(snap?.streams[0]?.state).to.equal('fail');
    expect(snap?.streams[0]?.cycles).to.equal(3);
  });

  it('fails at once, without retries or further polls, when cycle() throws (E_RIVER_FAILED)', async () => {
    const e = await open();
    const events = recordEvents(e);
    const river = new ScriptedRiver({
      attr: { cycleTimes: 5, cycleInterval: 0, retryTimes: 3, retryInterval: 0 },
      cycle: (_hw, _ctx, call) => {
        if (call === 2) throw new Error('status endpoint exploded');
        return false;
      },
    });
    const out = await runFlow(e, [river]);
    expect(river.cycleCalls).to.have.length(2);
    expect(river.flowCalls).to.have.length(1);
    expect(payloads(events, 'river:retry')).to.have.length(0);
    expect(out.status).to.equal('fail');
    expect(out.error?.code).to.equal('E_RIVER_FAILED');
    expect(out.error?.message).to.contain('status endpoint exploded');
  });

  // a river that defines cycle() and sets no cycleTimes is rejected at start(): spec/engine/misconfiguration.spec.ts
  it('never calls cycle() when cycleTimes is explicitly 0', async () => {
    const e = await open();
    const events = recordEvents(e);
    const explicit = new ScriptedRiver({ attr: { cycleTimes: 0, cycleInterval: 0 }, cycle: () => false });
    const other = new ScriptedRiver({ attr: { cycleTimes: 0 }, cycle: () => false });
    const run = await startFlow(e, [explicit, other]);
    const out = await run.result();
    expect(out.status).to.equal('success');
    expect(explicit.flowCalls).to.have.length(1);
    expect(other.flowCalls).to.have.length(1);
    expect(explicit.cycleCalls).to.have.length(0);
    expect(other.cycleCalls).to.have.length(0);
    expect(payloads(events, 'river:cycle')).to.have.length(0);
    const snap = await e.get(run.id);
    expect(snap?.streams.map((s) => s.cycles)).to.deep.equal([0, 0]);
  });

  it('gives ctx.cycle 0 in every flow() attempt and the 1-based poll number in cycle()', async () => {
    const e = await open();
    const river = new ScriptedRiver({
      attr: { cycleTimes: 4, cycleInterval: 0, retryTimes: 1, retryInterval: 0 },
      flow: (_hw, _ctx, call) => {
        if (call === 1) throw new Error('first attempt fails');
      },
      cycle: (_hw, _ctx, call) => call === 3,
    });
    await runFlow(e, [river]);
    expect(river.flowCalls.map((c) => c.cycle)).to.deep.equal([0, 0]);
    expect(river.cycleCalls.map((c) => c.cycle)).to.deep.equal([1, 2, 3]);
  });

  it('shares the headwaters with cycle(): what flow() put is visible there, what cycle() puts reaches the next river', async () => {
    const e = await open();
    const seenInCycle: unknown[] = [];
    const poller = new ScriptedRiver({
      attr: { cycleTimes: 3, cycleInterval: 0 },
      flow: (hw) => void hw.put('jobId', 'job-7'),
      cycle: (hw, _ctx, call) => {
        seenInCycle.push(hw.get('jobId'));
        hw.put('polls', call);
        return call === 2;
      },
    });
    let polls: number | undefined;
    const next = new ScriptedRiver({ flow: (hw) => void (polls = hw.getNumber('polls')) });
    const out = await runFlow(e, [poller, next]);
    expect(seenInCycle).to.deep.equal(['job-7', 'job-7']);
    expect(polls).to.equal(2);
    expect(out.headwaters).to.deep.equal({ jobId: 'job-7', polls: 2 });
  });

  describe('durable', () => {
    it('checkpoints the headwaters after flow(), visible in engine.get() while the river cycles', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const river = new ScriptedRiver({
        attr: { durable: true, cycleTimes: 2, cycleInterval: '1m' },
        flow: (hw) => void hw.put('vmId', 'vm-1'),
        cycle: () => true,
      });
      const run = await startFlow(e, [river], new Headwaters('durable-flow').put('vmName', 'web'));
      await clock.sleeping();
      await until(async () => (await e.get(run.id))?.headwaters['vmId'] === 'vm-1', 1000, 'the checkpoint after flow()');
      const snap = await e.get(run.id);
      expect(snap?.streams[0]?.state).to.equal('cycling');
      expect(river.cycleCalls).to.have.length(0);
      expect(snap?.headwaters).to.deep.equal({ vmName: 'web', vmId: 'vm-1' });
      await clock.advance('1m');
      expect((await run.result()).status).to.equal('success');
    });

    it('checkpoints the headwaters again after the cycle, before the next river ends', async () => {
      const clock = new ManualClock();
      const e = await open({ clock });
      const river = new ScriptedRiver({
        attr: { durable: true, cycleTimes: 2, cycleInterval: '1s' },
        flow: (hw) => void hw.put('vmId', 'vm-1'),
        cycle: (hw) => {
          hw.put('vmStatus', 'ACTIVE');
          return true;
        },
      });
      // the next river parks in a long retry wait, so the flow has not ended yet
      const next = new ScriptedRiver({
        attr: { retryTimes: 1, retryInterval: '1h' },
        flow: (_hw, _ctx, call) => {
          if (call === 1) throw new Error('not ready');
        },
      });
      const run = await startFlow(e, [river, next]);
      await clock.sleeping();
      await clock.advance('1s');
      await until(() => next.flowCalls.length === 1, 1000, 'the next river');
      await until(async () => (await e.get(run.id))?.headwaters['vmStatus'] === 'ACTIVE', 1000, 'the checkpoint after the cycle');
      const snap = await e.get(run.id);
      expect(snap?.status).to.equal('running');
      expect(snap?.headwaters).to.deep.equal({ vmId: 'vm-1', vmStatus: 'ACTIVE' });
      await clock.advance('1h');
      expect((await run.result()).status).to.equal('success');
    });

    it('writes each checkpoint in the same store write as the river state change it follows', async () => {
      // a store that records every write() call (one call is one atomic write)
      const inner = LevelStore.memory();
      const writes: FlowChange[][] = [];
      const store = overriding(inner, {
        write: (changes) => {
          writes.push(structuredClone([...changes]));
          return inner.write(changes);
        },
      });
      const e = await open({ store, clock: new ManualClock({ auto: true }) });
      const river = new ScriptedRiver({
        attr: { durable: true, cycleTimes: 2, cycleInterval: '1s' },
        flow: (hw) => void hw.put('vmId', 'vm-1'),
        cycle: (hw) => {
          hw.put('vmStatus', 'ACTIVE');
          return true;
        },
      });
      const run = await startFlow(e, [river]);
      await run.result();
      const writeWith = (state: string) => writes.find((batch) => batch.some((c) => c.flowId === run.id && c.streams?.['0']?.state === state));
      const toCycling = writeWith('cycling');
      const toSuccess = writeWith('success');
      expect(toCycling, 'a write of the state change to cycling').to.not.equal(undefined);
      expect(toSuccess, 'a write of the state change to success').to.not.equal(undefined);
      const headwatersIn = (batch: FlowChange[]) => JSON.stringify(batch.map((c) => c.headwaters ?? null));
      expect(headwatersIn(toCycling!), 'the checkpoint after flow() rides with the state change').to.contain('vm-1');
      expect(headwatersIn(toSuccess!), 'the checkpoint after the cycle rides with the state change').to.contain('ACTIVE');
    });
  });
});
