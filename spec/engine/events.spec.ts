// Engine events: their payloads, their order, and listeners that throw.
import { expect } from 'chai';
import { pino } from 'pino';
import { Engine, Headwaters, River, type RiverAttr } from '../../lib/index.js';
import { thrown } from '../helpers/stores.js';
import { openEngine, payloads, recordEvents, runFlow, ScriptedRiver, startFlow } from '../helpers/river-helpers.js';

class Alpha extends River {
  async flow(hw: Headwaters) {
    hw.put('alpha', true);
  }
}

class Beta extends River {
  static riverName = 'BetaStep';
  async flow(hw: Headwaters) {
    hw.put('beta', true);
  }
}

class Flaky extends River {
  calls = 0;
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.retryInterval = 0;
    attr.cycleTimes = 3;
    attr.cycleInterval = 0;
  }
  async flow() {
    this.calls++;
    if (this.calls === 1) throw new Error('flaky once');
  }
  #polls = 0;
  async cycle() {
    return ++this.#polls === 2;
  }
}

describe('engine events', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await openEngine();
  });
  afterEach(() => engine.close());

  it('refuses on() and off() of an unknown event name or a listener that is no function, with E_INVALID_ARGUMENT', () => {
    for (const call of [
      () => engine.on('flow:finish' as never, () => {}),
      () => engine.off('flow:finish' as never, () => {}),
      () => engine.on('flow:end', 'log' as never),
      () => engine.on('constructor' as never, () => {}),
    ]) {
      const err = thrown(call);
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.match(/"flow:finish"|"constructor"|listener must be a function/);
    }
    expect(thrown(() => engine.on('flow:finish' as never, () => {})).message).to.contain('flow:end, river:start');
  });

  it('emits flow:start, river:start, river:end and flow:end in order for a 2-river flow', async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Alpha(), new Beta()]);
    expect(events.map((r) => `${r.event}${'river' in r.payload ? ` ${r.payload.river}` : ''}`)).to.deep.equal([
      'flow:start',
      'river:start Alpha',
      'river:end Alpha',
      'river:start BetaStep',
      'river:end BetaStep',
      'flow:end',
    ]);
  });

  it('gives every event the flowId and requestId of its flow', async () => {
    const events = recordEvents(engine);
    const run = await startFlow(engine, [new Flaky(), new Alpha()], new Headwaters('req-events'));
    await run.result();
    expect(new Set(events.map((r) => r.event))).to.deep.equal(new Set(['flow:start', 'river:start', 'river:retry', 'river:cycle', 'river:end', 'flow:end']));
    for (const { event, payload } of events) {
      expect(payload.flowId, event).to.equal(run.id);
      expect(payload.requestId, event).to.equal('req-events');
    }
  });

  it('keeps the events of concurrent flows apart by flowId', async () => {
    const events = recordEvents(engine);
    const [a, b] = await Promise.all([startFlow(engine, [new Alpha()], new Headwaters('req-a')), startFlow(engine, [new Beta()], new Headwaters('req-b'))]);
    await Promise.all([a.result(), b.result()]);
    const ofA = events.filter((r) => r.payload.flowId === a.id);
    const ofB = events.filter((r) => r.payload.flowId === b.id);
    expect(ofA.map((r) => r.event)).to.deep.equal(['flow:start', 'river:start', 'river:end', 'flow:end']);
    expect(ofB.map((r) => r.event)).to.deep.equal(['flow:start', 'river:start', 'river:end', 'flow:end']);
    expect(ofA.every((r) => r.payload.requestId === 'req-a')).to.equal(true);
    expect(ofB.every((r) => r.payload.requestId === 'req-b')).to.equal(true);
    expect(events).to.have.length(8);
  });

  it('gives river:start the 1-based attempt and the river name', async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Flaky()]);
    expect(payloads(events, 'river:start').map((p) => [p.river, p.attempt])).to.deep.equal([
      ['Flaky', 1],
      ['Flaky', 2],
    ]);
  });

  it('gives river:retry the failed attempt, the wait and the error', async () => {
    const events = recordEvents(engine);
    const river = new ScriptedRiver({
      attr: { retryTimes: 1, retryInterval: 5 },
      flow: (_hw, _ctx, call) => {
        if (call === 1) throw new Error('connection reset');
      },
    });
    await runFlow(engine, [river]);
    const retries = payloads(events, 'river:retry');
    expect(retries).to.have.length(1);
    expect(retries[0]?.river).to.equal('ScriptedRiver');
    expect(retries[0]?.attempt).to.equal(1);
    expect(retries[0]?.delayMs).to.equal(5);
    expect(retries[0]?.error.code).to.equal('E_RIVER_FAILED');
    expect(retries[0]?.error.message).to.contain('connection reset');
  });

  it('gives river:cycle the poll number and whether it was done', async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Flaky()]);
    expect(payloads(events, 'river:cycle').map((p) => ({ river: p.river, cycle: p.cycle, done: p.done }))).to.deep.equal([
      { river: 'Flaky', cycle: 1, done: false },
      { river: 'Flaky', cycle: 2, done: true },
    ]);
  });

  it('orders a retried, cycling river’s events: start, retry, start, cycles, end', async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Flaky()]);
    expect(events.map((r) => r.event)).to.deep.equal([
      'flow:start',
      'river:start',
      'river:retry',
      'river:start',
      'river:cycle',
      'river:cycle',
      'river:end',
      'flow:end',
    ]);
  });

  it("gives river:end the river's state: success", async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Alpha()]);
    const ends = payloads(events, 'river:end');
    expect(ends.map((p) => [p.river, p.state])).to.deep.equal([['Alpha', 'success']]);
  });

  it('gives river:end state fail and flow:end status fail when a river fails', async () => {
    const events = recordEvents(engine);
    const failing = new ScriptedRiver({
      flow: () => {
        throw new Error('nope');
      },
    });
    await runFlow(engine, [failing]);
    expect(payloads(events, 'river:end').map((p) => p.state)).to.deep.equal(['fail']);
    const end = payloads(events, 'flow:end');
    expect(end.map((p) => p.status)).to.deep.equal(['fail']);
    expect(end[0]?.error?.code).to.equal('E_RIVER_FAILED');
  });

  it("gives flow:end the flow's status: success", async () => {
    const events = recordEvents(engine);
    await runFlow(engine, [new Alpha()]);
    expect(payloads(events, 'flow:end').map((p) => p.status)).to.deep.equal(['success']);
  });

  it('gives flow:end status cancelled for a cancelled flow', async () => {
    const events = recordEvents(engine);
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = new ScriptedRiver({
      flow: (_hw, ctx) =>
        new Promise<void>((_resolve, reject) => {
          release();
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    const run = await startFlow(engine, [slow]);
    await started;
    await run.cancel('test cancels');
    await run.result();
    expect(payloads(events, 'flow:end').map((p) => p.status)).to.deep.equal(['cancelled']);
  });

  it("emits flow:end once the flow's final status is in the store", async () => {
    const reads: Array<Promise<string | undefined>> = [];
    engine.on('flow:end', (e) => void reads.push(engine.get(e.flowId).then((s) => s?.status)));
    await runFlow(engine, [new Alpha()]);
    expect(await Promise.all(reads)).to.deep.equal(['success']);
  });

  it('keeps running the flow, and calling other listeners, when a listener throws', async () => {
    const others: string[] = [];
    for (const event of ['flow:start', 'river:start', 'river:end', 'flow:end'] as const) {
      engine.on(event, () => {
        throw new Error(`listener of ${event} broke`);
      });
      engine.on(event, () => void others.push(event));
    }
    const out = await runFlow(engine, [new Alpha(), new Beta()]);
    expect(out.status).to.equal('success');
    expect(out.headwaters).to.deep.equal({ alpha: true, beta: true });
    expect(others).to.deep.equal(['flow:start', 'river:start', 'river:end', 'river:start', 'river:end', 'flow:end']);
  });

  it('logs an async listener that rejects, as one that throws, instead of leaving an unhandled rejection', async () => {
    const logged: Array<{ msg: string; event: string; err: { message: string } }> = [];
    const stream = { write: (line: string) => void logged.push(JSON.parse(line)) };
    const own = await openEngine({ logger: pino({ level: 'error' }, stream) });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    // mocha's own handler would fail the test run; this one sees it first and the test says so
    const mochas = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    try {
      own.on('flow:end', async () => {
        throw new Error('async listener broke');
      });
      const out = await runFlow(own, [new Alpha()]);
      expect(out.status).to.equal('success');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled, 'unhandled rejections').to.deep.equal([]);
      expect(logged.map((l) => [l.msg, l.event, l.err.message])).to.deep.equal([['event listener rejected', 'flow:end', 'async listener broke']]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const l of mochas) process.on('unhandledRejection', l);
      await own.close();
    }
  });

  it('stops calling a listener removed with off()', async () => {
    const calls: string[] = [];
    const listener = () => void calls.push('end');
    engine.on('flow:end', listener);
    await runFlow(engine, [new Alpha()]);
    engine.off('flow:end', listener);
    await runFlow(engine, [new Beta()]);
    expect(calls).to.deep.equal(['end']);
  });
});
