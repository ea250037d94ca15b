// A flow whose failure was recorded but whose end was not (the process died in between) must come
// back failing: recovery fails it, skips what the contract skips and runs Atlantic.fail. The store
// below drops every write of a flow's end, as a crash right after the failure would.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Engine,
  Headwaters,
  LevelStore,
  ParallelRiver,
  River,
  type FlowChange,
  type FlowQuery,
  type RiverAttr,
  type RiverContext,
  type Store,
} from '../../lib/index.js';
import { RecordingAtlantic, RecordingStore, rejects, silent, startFlow, until } from '../helpers/stores.js';

let calls: string[] = [];

class Works extends River<{ name: string }> {
  flow(hw: Headwaters) {
    calls.push(this.config!.name);
    hw.put(this.config!.name, true);
  }
}

class Breaks extends River {
  flow(): void {
    calls.push('breaks');
    throw new Error('disk on fire');
  }
}

/** Waits in a poll until the flow fails, then stops with the flow (a sibling of Breaks). */
class Polls extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 50;
    attr.cycleInterval = 5;
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    calls.push(`poll ${ctx.cycle}`);
    return false;
  }
}

/**
 * Passes writes to a store that outlives the engines, and drops (rejects) every change that
 * records a flow's end: the engine that wrote the failure dies before the end is written.
 */
class EndlessStore extends RecordingStore {
  dropEnds = true;
  override close() {
    return Promise.resolve(); // the next engine opens the same data
  }
  override write(changes: readonly FlowChange[]) {
    const ends = changes.some((c) => c.header !== undefined && c.header.status !== 'running' && c.header.status !== 'waiting');
    if (this.dropEnds && ends) return Promise.reject(new Error('killed before the end was written'));
    return super.write(changes);
  }
}

const KINDS: Array<{ name: string; make(): { store: Store; dispose(): Promise<void> } }> = [
  {
    name: 'memory store',
    make() {
      const inner = LevelStore.memory();
      return { store: inner, dispose: () => inner.close() };
    },
  },
  {
    name: 'LevelDB store',
    make() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-failing-'));
      const inner = LevelStore.at(dir);
      return { store: inner, dispose: async () => (await inner.close(), fs.rmSync(dir, { recursive: true, force: true })) };
    },
  },
];

for (const kind of KINDS) {
  describe(`a flow that failed before its end was recorded, on the ${kind.name}`, () => {
    let made: { store: Store; dispose(): Promise<void> };
    let store: EndlessStore;
    const engines: Engine[] = [];
    const open = async () => {
      const engine = await Engine.open({ store, logger: silent, classes: [Works, Breaks, Polls, RecordingAtlantic], closeTimeout: 200 });
      engines.push(engine);
      return engine;
    };

    beforeEach(() => {
      calls = [];
      made = kind.make();
      store = new EndlessStore(made.store);
    });
    afterEach(async () => {
      for (const e of engines.splice(0)) await e.close();
      await made.dispose();
    });

    it('comes back failing: the rivers after the failed one never run, and Atlantic.fail runs', async () => {
      const first = await open();
      const drawing = () => [new Works({ name: 'a' }), new Breaks(), new Works({ name: 'c' })];
      const run = await startFlow(first, drawing(), new Headwaters('order-1'), new RecordingAtlantic());
      await rejects(run.result());
      expect(calls).to.deep.equal(['a', 'breaks']);
      await first.close();

      store.dropEnds = false;
      const second = await open();
      // starting the requestId again returns the recovered flow
      const again = await startFlow(second, drawing(), new Headwaters('order-1'), new RecordingAtlantic());
      expect(again.id).to.equal(run.id);
      const outcome = await again.result();
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Breaks' });
      expect(calls, 'c never runs, the failed river is not retried').to.deep.equal(['a', 'breaks']);
      const snap = await second.get(run.id);
      expect(snap!.status).to.equal('fail');
      expect(snap!.streams.map((s) => s.state)).to.deep.equal(['success', 'fail', 'skipped']);
      expect(snap!.atlantic).to.deep.include({ hook: 'fail', done: true });
    });

    it('comes back failing when a parallel branch failed: its sibling stops, nothing after it runs', async () => {
      const first = await open();
      const drawing = () => [new ParallelRiver().append(new Breaks()).append(new Polls()), new Works({ name: 'after' })];
      const run = await startFlow(first, drawing(), new Headwaters('order-2'), new RecordingAtlantic());
      await rejects(run.result());
      await first.close();

      store.dropEnds = false;
      calls = [];
      const second = await open();
      const outcome = await (await startFlow(second, drawing(), new Headwaters('order-2'), new RecordingAtlantic())).result();
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ river: 'Breaks' });
      expect(
        calls.filter((c) => c === 'after' || c === 'breaks'),
        'neither the failed river nor the next one runs',
      ).to.deep.equal([]);
      const snap = await second.get(run.id);
      const byId = new Map(snap!.streams.map((s) => [s.id, s.state]));
      expect(byId.get('0')).to.equal('fail');
      expect(byId.get('0.0.0')).to.equal('fail');
      expect(byId.get('0.1.0'), 'the polling sibling is stopped, not left cycling').to.equal('fail');
      expect(byId.get('1')).to.equal('skipped');
      await until(async () => (await second.get(run.id))!.atlantic?.done === true);
    });
  });
}
