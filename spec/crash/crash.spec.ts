// Crash tests: a child process runs a user program on a LevelDB directory and is killed with
// SIGKILL at a chosen moment; then this process opens the same directory and checks that the
// engine resumed every flow as docs/durability.md promises.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Andes, Engine, LevelStore, type FlowOutcome, type StoredFlow } from '../../lib/index.js';
import { kill, startProgram, waitForJournal } from '../helpers/child.js';
import { silent } from '../helpers/stores.js';
import { allClasses, draw, End, readJournal, settings, Step, type Scenario } from './rivers.js';

const has = (text: string) => (lines: string[]) => lines.some((l) => l.startsWith(text));
const count = (lines: string[], text: string) => lines.filter((l) => l.startsWith(text)).length;

describe('crash recovery with real SIGKILLed processes', function () {
  this.timeout(30_000);
  let tmp: string;
  let db: string;
  let journalFile: string;
  let engine: Engine | undefined;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-crash-'));
    db = path.join(tmp, 'db');
    journalFile = path.join(tmp, 'journal.log');
    settings.journal = journalFile;
    settings.hang = '';
  });

  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    settings.journal = '';
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const child = (scenario: Scenario, flows: number, hang: string, extra: object = {}) =>
    startProgram({ dir: db, scenario, flows, ...extra }, { VASTFLOW_CRASH_JOURNAL: journalFile, VASTFLOW_CRASH_HANG: hang });

  /** Opens the directory again in this process and waits for the scenario's flows. */
  async function recover(scenario: Scenario, flows: number, options: { concurrency?: number; retryIntervalMs?: number } = {}): Promise<FlowOutcome[]> {
    engine = await Engine.open({ store: db, classes: allClasses, logger: silent, concurrency: options.concurrency ?? 500 });
    const outcomes: Promise<FlowOutcome>[] = [];
    for (let i = 0; i < flows; i++) {
      const run = await draw(new Andes(engine), scenario, `${scenario}-${i}`, options.retryIntervalMs).start();
      outcomes.push(run.result());
    }
    return Promise.all(outcomes);
  }

  it('a river killed inside flow() runs flow() again; the rivers before it never run again', async () => {
    const run = child('chain', 1, 'b');
    await waitForJournal(journalFile, has('hanging chain-0 b'), run);
    // while the child holds the directory, no other engine may open it
    const locked = await Engine.open({ store: db, logger: silent }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(locked).to.have.property('code', 'E_STORE_LOCKED');
    await kill(run);

    const [outcome] = await recover('chain', 1);
    expect(outcome!.status).to.equal('success');
    expect(outcome!.headwaters).to.deep.equal({ a: 'a-done', b: 'b-done', c: 'c-done' });
    const lines = readJournal(journalFile);
    expect(count(lines, 'start chain-0 a')).to.equal(1);
    expect(count(lines, 'start chain-0 b')).to.equal(2);
    expect(count(lines, 'atlantic-done chain-0')).to.equal(1);
  });

  it('a river whose river:end a listener heard is never run again, though the process died inside the listener', async () => {
    const run = child('chain', 1, '', { killOnRiverEnd: true });
    expect(await run.exited).to.equal('SIGKILL');
    const heard = readJournal(journalFile).filter((l) => l.startsWith('heard chain-0'));
    expect(heard).to.have.length(1);
    expect(heard[0]).to.match(/ success$/);

    const [outcome] = await recover('chain', 1);
    expect(outcome!.status).to.equal('success');
    const lines = readJournal(journalFile);
    // the event came after the river's success was in the store: recovery starts at b
    expect(count(lines, 'start chain-0 a')).to.equal(1);
    expect(count(lines, 'start chain-0 b')).to.equal(1);
  });

  it('a river killed while cycling resumes polling without flow(), with its checkpointed headwaters', async () => {
    const run = child('poll', 1, '');
    await waitForJournal(journalFile, has('poll poll-0 2'), run);
    await kill(run);

    const [outcome] = await recover('poll', 1);
    expect(outcome!.status).to.equal('success');
    const lines = readJournal(journalFile);
    expect(count(lines, 'start poll-0 poll')).to.equal(1);
    const polls = lines.filter((l) => l.startsWith('poll poll-0')).map((l) => l.split(' '));
    expect(
      polls.every((p) => p[3] === 'T-1'),
      'every poll sees the ticket flow() checkpointed',
    ).to.equal(true);
    const numbers = polls.map((p) => Number(p[2]));
    expect(numbers.at(-1)).to.equal(4);
    expect(numbers).to.deep.equal([...numbers].sort((a, b) => a - b));
    expect(numbers.length).to.be.at.most(6);
    const snap = await engine!.get(outcome!.id);
    expect(snap!.streams[1]).to.include({ state: 'success', cycles: 4, attempts: 1 });
  });

  it('a river killed in a retry wait keeps its attempt count and the due time of its next attempt', async () => {
    const intervalMs = 1500;
    const run = child('retry', 1, '', { retryIntervalMs: intervalMs });
    const before = await waitForJournal(journalFile, has('attempt retry-0 2'), run);
    const t2 = Number(before.find((l) => l.startsWith('attempt retry-0 2'))!.split(' ')[3]);
    // kill well inside the wait, then resume at once: the wait must end at its recorded due time
    await new Promise((r) => setTimeout(r, 600));
    await kill(run);

    const [outcome] = await recover('retry', 1, { retryIntervalMs: intervalMs });
    expect(outcome!.status).to.equal('success');
    expect(outcome!.headwaters).to.deep.equal({ flaky: 3 });
    const attempts = readJournal(journalFile)
      .filter((l) => l.startsWith('attempt retry-0'))
      .map((l) => l.split(' '));
    expect(attempts.map((a) => Number(a[2]))).to.deep.equal([1, 2, 3]);
    const t3 = Number(attempts[2]![3]);
    expect(t3 - t2).to.be.at.least(intervalMs - 5);
    expect(t3 - t2, 'resumed with the time left, not a new full wait').to.be.below(intervalMs + 450);
  });

  it('an Atlantic hook killed before recording its completion runs again, once more only', async () => {
    const run = child('chain', 1, 'atlantic');
    await waitForJournal(journalFile, has('hanging chain-0 atlantic'), run);
    await kill(run);

    const [outcome] = await recover('chain', 1);
    expect(outcome!.status).to.equal('success');
    await engine!.close();
    engine = await Engine.open({ store: db, classes: allClasses, logger: silent });
    const again = await (await draw(new Andes(engine), 'chain', 'chain-0').start()).result();
    expect(again.status).to.equal('success');
    const lines = readJournal(journalFile);
    expect(count(lines, 'atlantic-start chain-0')).to.equal(2);
    expect(count(lines, 'atlantic-done chain-0')).to.equal(1);
    expect(count(lines, 'start chain-0 c')).to.equal(1);
  });

  it('flows queued behind the window stay queued across a crash and start in FIFO order', async () => {
    const run = child('chain', 4, 'b', { concurrency: 1 });
    await waitForJournal(journalFile, (l) => has('started 4')(l) && has('hanging chain-0 b')(l), run);
    await kill(run);
    const killedAt = readJournal(journalFile).length;

    const outcomes = await recover('chain', 4, { concurrency: 1 });
    expect(outcomes.map((o) => o.status)).to.deep.equal(['success', 'success', 'success', 'success']);
    const after = readJournal(journalFile)
      .slice(killedAt)
      .filter((l) => l.startsWith('start '));
    const order = [...new Set(after.map((l) => l.split(' ')[1]))];
    expect(order).to.deep.equal(['chain-0', 'chain-1', 'chain-2', 'chain-3']);
    // one at a time: no flow starts before the previous one has ended
    const flowOf = after.map((l) => l.split(' ')[1]);
    expect(flowOf).to.deep.equal([...flowOf].sort());
  });

  it('a flow whose class the opening engine lacks is left untouched, and resumed by one that has it', async () => {
    const run = child('ghost', 1, 'a');
    await waitForJournal(journalFile, has('hanging ghost-0 a'), run);
    await kill(run);

    const logged: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (logged.push(chunk.toString()), cb()) });
    engine = await Engine.open({ store: db, classes: [Step, End], logger: pino({ level: 'error' }, sink) });
    const [summary] = await engine.list();
    expect(summary!.status).to.equal('running');
    await new Promise((r) => setTimeout(r, 50));
    expect(count(readJournal(journalFile), 'start ghost-0 a')).to.equal(1);
    expect(logged.join('')).to.match(/Ghost/);
    const before = await engine.get(summary!.id);
    await engine.close();

    const [outcome] = await recover('ghost', 1);
    expect(outcome!.status).to.equal('success');
    expect(outcome!.headwaters).to.deep.equal({ a: 'a-done', ghost: true });
    // untouched: the Ghost river never started ('a' may show running or init: its start record
    // is not awaited before flow() runs, so the kill can land before it is written)
    expect(before!.streams[1]!.state).to.equal('init');
    expect(before!.status).to.equal('running');
  });

  it('survives being killed many times at random moments while 24 multi-river flows run', async function () {
    this.timeout(60_000);
    const flows = 24;
    let seed = Number(process.env['VASTFLOW_CRASH_SEED'] ?? Date.now() % 100_000);
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const usedSeed = seed;
    let midRunKills = 0;
    for (let k = 0; k < 8; k++) {
      const run = child('diamond', flows, '', { concurrency: 6 });
      const opened = (await waitForJournal(journalFile, has(`opened ${run.child.pid}`), run)).length;
      // kill after a random amount of progress, then a random few ms: inside a river, a write, a hook
      const steps = 1 + Math.floor(random() * 25);
      await waitForJournal(journalFile, (l) => l.length >= opened + steps || has('all-done')(l), run);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
      await kill(run);
      if (readJournal(journalFile).some((l) => l.startsWith('all-done'))) break;
      midRunKills++;
    }
    expect(midRunKills, `seed ${usedSeed}: kills that landed while flows ran`).to.be.at.least(5);
    const last = child('diamond', flows, '', { concurrency: 6 });
    await waitForJournal(journalFile, has('all-done'), last);
    expect(await last.exited).to.equal(0);

    const lines = readJournal(journalFile);
    const context = `seed ${usedSeed}`;
    expect(
      lines.find((l) => l.startsWith('all-done')),
      context,
    ).to.equal(`all-done ${flows}`);
    engine = await Engine.open({ store: db, classes: allClasses, logger: silent });
    const summaries = await engine.list();
    expect(summaries, context).to.have.length(flows);
    for (const s of summaries) {
      expect(s.status, context).to.equal('success');
      const snap = await engine.get(s.id);
      const fork = s.requestId.endsWith('7') ? { big: 'big-done' } : { small: 'small-done' };
      expect(snap!.headwaters, context).to.deep.equal({ a: 'a-done', b: 'b-done', c: 'c-done', d: 'd-done', ...fork });
      expect(count(lines, `atlantic-done ${s.requestId} success`), context).to.be.at.least(1);
    }
    // no river ever started before its predecessors had finished
    const doneAt = new Map<string, number>();
    lines.forEach((l, i) => {
      const [verb, req, name] = l.split(' ');
      if (verb === 'done' && !doneAt.has(`${req} ${name}`)) doneAt.set(`${req} ${name}`, i);
      if (verb !== 'start') return;
      const needs = name === 'c' ? ['a', 'b'] : name === 'd' ? ['c'] : name === 'big' || name === 'small' ? ['d'] : [];
      for (const n of needs) {
        const at = doneAt.get(`${req} ${n}`);
        expect(at !== undefined && at < i, `${context}: ${l} at line ${i} before ${n} finished`).to.equal(true);
      }
    });
    expect(await engine.list({ status: 'running' })).to.deep.equal([]);
  });

  it("keeps every flow's grouped transitions in order and atomic when killed in the middle of a group", async function () {
    this.timeout(60_000);
    const flows = 40;
    // the diamond's stream ids: 0 = parallel(a | b), 1 = c, 2 = basin(d), 3 = fork(big | small)
    const river: Record<string, string> = { a: '0.0.0', b: '0.1.0', c: '1', d: '2.0' };
    const check = (f: StoredFlow, context: string): void => {
      const state = (id: string) => f.streams[id]?.state ?? 'init';
      const main = f.headwaters['main'] ?? {};
      for (const [key, id] of Object.entries(river)) {
        // a durable river's checkpoint and its success are one write: never one without the other
        if (key !== 'd') expect(key in main, `${context}: ${key} in headwaters iff its river succeeded`).to.equal(state(id) === 'success');
      }
      // the basin merged d into the flow in the same write that recorded its success
      expect('d' in main, `${context}: d merged iff the basin succeeded`).to.equal(state('2') === 'success');
      // in order: nothing after the parallel river started before both branches were recorded done
      if (state('1') !== 'init') expect([state('0.0.0'), state('0.1.0')], `${context}: c started before a and b ended`).to.deep.equal(['success', 'success']);
      if (state('2.0') !== 'init') expect(state('1'), `${context}: d started before c ended`).to.equal('success');
      if (f.header.status === 'success') expect(Object.values(river).map(state), context).to.deep.equal(['success', 'success', 'success', 'success']);
    };
    for (let k = 0; k < 6; k++) {
      const run = child('diamond', flows, '', { concurrency: 40 });
      const opened = (await waitForJournal(journalFile, has(`opened ${run.child.pid}`), run)).length;
      await waitForJournal(journalFile, (l) => l.length >= opened + 10 + k * 7 || has('all-done')(l), run);
      await kill(run);
      const store = LevelStore.at(db);
      await store.open();
      try {
        for (const s of await store.listFlows()) check((await store.getFlow(s.id))!, `kill ${k}, ${s.requestId}`);
      } finally {
        await store.close();
      }
    }
    const outcomes = await recover('diamond', flows);
    expect(outcomes.every((o) => o.status === 'success')).to.equal(true);
  });
});
