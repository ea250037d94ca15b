// A flow parked for long (its next poll or retry a second or more away, or held at a Dam with no
// timeout) keeps its records in the store only, and reads them back when it runs again. What a user
// sees must not change; a parked flow holds about half the memory; a store that cannot answer the
// read back delays the flow, and one whose records are unreadable leaves it for recovery.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  Engine,
  LevelStore,
  ManualClock,
  ParallelRiver,
  River,
  VastflowError,
  type Headwaters,
  type RiverAttr,
  type RiverContext,
  type Store,
  type StoredFlow,
} from '../../lib/index.js';
import { overriding, rejects, silent, startFlow, until } from '../helpers/stores.js';

const T0 = 1_767_225_600_000;
let clock: ManualClock;
let log: string[] = [];

/** Polls every minute; done on poll `until`. */
class MinutePoll extends River<{ name: string; until: number }> {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = '1m';
  }
  cycle(hw: Headwaters, ctx: RiverContext) {
    log.push(`${this.config!.name} ${ctx.cycle} at ${(clock.now() - T0) / 1000}s`);
    if (ctx.cycle !== this.config!.until) return false;
    hw.put(this.config!.name, ctx.cycle);
    return true;
  }
}

/** Not durable: what it puts lives in the engine's memory until a later checkpoint. */
class Note extends River {
  flow(hw: Headwaters) {
    hw.put('note', 'kept in memory');
  }
}

const drawing = () => [new Note(), new ParallelRiver().append(new MinutePoll({ name: 'a', until: 2 })).append(new MinutePoll({ name: 'b', until: 3 }))];

describe('flows parked for long read their records back from the store', () => {
  let dir: string;
  const engines: Engine[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-parked-'));
    clock = new ManualClock({ startMs: T0 });
    log = [];
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes sent to the store and not yet answered. */
  let writing = 0;

  /** An engine on the LevelDB store in `dir`, its flow reads (getFlow) counted, and answered by `read` when given. */
  async function open(read?: (real: Store, id: string) => Promise<StoredFlow | undefined>) {
    const real = LevelStore.at(dir);
    const reads: string[] = [];
    const store = overriding(real, {
      getFlow: (id) => {
        reads.push(id);
        return read !== undefined ? read(real, id) : real.getFlow(id);
      },
      write: (changes) => {
        writing++;
        return real.write(changes).finally(() => writing--);
      },
    });
    const engine = await Engine.open({ store, clock, logger: silent, closeTimeout: 200, classes: [Note, MinutePoll] });
    engines.push(engine);
    return { engine, reads };
  }

  /** Moves the clock `step` at a time while something sleeps on it, until `done` settles (at most `times` steps). */
  async function advance(done: Promise<unknown>, step = '1m', times = 10) {
    const ended = done.then(
      () => false,
      () => false,
    );
    for (let i = 0; i < times; i++) {
      if (!(await Promise.race([clock.sleeping().then(() => true), ended]))) return;
      // the flow's writes landed and it has let its records go (in the turn they landed in), as a
      // flow parked for long would have long before its wait ends
      // (the write queue sends what a turn of the event loop gathered)
      await new Promise((r) => setImmediate(r));
      await until(() => writing === 0, 2_000, 'the writes before the wait');
      await new Promise((r) => setImmediate(r));
      await clock.advance(step);
    }
  }

  it('polls at the due times and ends as it would have in memory, the headwaters kept', async () => {
    const { engine, reads } = await open();
    const run = await startFlow(engine, drawing());
    const result = run.result();
    await advance(result);
    const out = await result;
    // each of the three wakes read the flow back: its records were not held in memory while it waited
    expect(reads.filter((id) => id === run.id)).to.have.length(3);
    expect(out.status).to.equal('success');
    expect(out.headwaters).to.deep.equal({ note: 'kept in memory', a: 2, b: 3 });
    expect(log).to.deep.equal(['a 1 at 60s', 'b 1 at 60s', 'a 2 at 120s', 'b 2 at 120s', 'b 3 at 180s']);
    const snap = await engine.get(run.id);
    const polls = snap!.streams.filter((s) => s.kind === 'river' && s.name === 'MinutePoll').map((s) => [s.cycles, s.history.length]);
    expect(polls, 'cycles and history continued from the store').to.deep.equal([
      [2, 3],
      [3, 4],
    ]);
  });

  it('waits for a store that cannot answer when the flow comes due, then runs on', async () => {
    let refusals = 3;
    const { engine } = await open((real, id) => {
      if (refusals > 0 && log.length > 0) {
        refusals--;
        return Promise.reject(new VastflowError('E_STORE_UNAVAILABLE', 'the database does not answer'));
      }
      return real.getFlow(id);
    });
    const run = await startFlow(engine, drawing());
    const result = run.result();
    // the polls at 60 s, then the wake at 120 s meets three refusals: it asks again 100, 200 and 400 ms later
    await advance(result, '1m', 2);
    await advance(result, '100ms', 20);
    await advance(result);
    expect((await result).status).to.equal('success');
    expect(refusals).to.equal(0);
    expect(log).to.deep.equal(['a 1 at 60s', 'b 1 at 60s', 'a 2 at 120.7s', 'b 2 at 120.7s', 'b 3 at 180.7s']);
  });

  it('stops a flow whose records cannot be read back, and an engine opened again resumes it', async () => {
    const first = await open((real, id) => (log.length > 0 ? Promise.reject(new VastflowError('E_STORE_CORRUPT', `flow ${id}: damaged`)) : real.getFlow(id)));
    const run = await startFlow(first.engine, drawing());
    const result = run.result();
    await advance(result);
    const err = await rejects(result);
    expect(err.code).to.equal('E_STORE_CORRUPT');
    expect(log, 'nothing ran after the failed read').to.deep.equal(['a 1 at 60s', 'b 1 at 60s']);
    await first.engine.close();
    engines.length = 0;
    const again = await open();
    const ended = until(async () => (await again.engine.get(run.id))?.status === 'success', 5_000, 'the resumed flow ends');
    await advance(ended);
    await ended;
    const snap = await again.engine.get(run.id);
    expect(snap?.status).to.equal('success');
    expect(snap?.headwaters).to.include({ a: 2, b: 3 });
  });

  it('holds well under a kilobyte and a half of heap per flow parked in a parallel river', function () {
    this.timeout(60_000);
    const program = fileURLToPath(new URL('./parked-memory.program.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', program], { encoding: 'utf8', timeout: 55_000 });
    expect(child.status, child.stderr).to.equal(0);
    const { bytesPerFlow } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { bytesPerFlow: number };
    // about 740 B with the records in the store only; 1,430 B when every parked flow held them
    expect(bytesPerFlow).to.be.below(1_100);
  });
});
