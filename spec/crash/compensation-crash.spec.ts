// Compensation across crashes: a child process runs a saga on LevelDB or PostgreSQL and is
// SIGKILLed in the middle of its compensations; then this process opens the same store and
// checks that finished compensations never ran again, the unfinished one ran again
// (at-least-once) and Atlantic.fail ran once, after all of them.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Andes, Engine, PostgresStore, type FlowOutcome } from '../../lib/index.js';
import { kill, startProgram, waitForJournal } from '../helpers/child.js';
import { silent } from '../helpers/stores.js';
import { readJournal, settings } from './rivers.js';
import { drawSaga, sagaClasses, type SagaScenario } from './saga-rivers.js';
import { describePg, dropSchema, PG_URL, schemaName } from '../helpers/postgres.js';

const PROGRAM = path.join(import.meta.dirname, 'saga-program.ts');
const has = (text: string) => (lines: string[]) => lines.some((l) => l.startsWith(text));
const count = (lines: string[], text: string) => lines.filter((l) => l.startsWith(text)).length;
const indexOf = (lines: string[], text: string) => lines.findIndex((l) => l.startsWith(text));

for (const kind of ['LevelDB', 'PostgreSQL'] as const) {
  (kind === 'PostgreSQL' ? describePg : describe)(`compensation after a real SIGKILL (${kind})`, function () {
    this.timeout(40_000);
    let tmp: string;
    let journalFile: string;
    let where: { dir: string } | { pg: { url: string; schema: string } };
    let engine: Engine | undefined;

    beforeEach(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-saga-crash-'));
      journalFile = path.join(tmp, 'journal.log');
      where = kind === 'LevelDB' ? { dir: path.join(tmp, 'db') } : { pg: { url: PG_URL, schema: schemaName('saga') } };
      settings.journal = journalFile;
      settings.hang = '';
    });

    afterEach(async () => {
      await engine?.close();
      engine = undefined;
      settings.journal = '';
      fs.rmSync(tmp, { recursive: true, force: true });
      if ('pg' in where) await dropSchema(where.pg.schema);
    });

    const child = (scenario: SagaScenario, requestId: string, hang: string) =>
      startProgram({ ...where, scenario, requestId }, { VASTFLOW_CRASH_JOURNAL: journalFile, VASTFLOW_CRASH_HANG: hang }, { program: PROGRAM });

    /** Opens the store again in this process and waits for the flow (idempotent start: the resumed one). */
    async function recover(scenario: SagaScenario, requestId: string): Promise<FlowOutcome> {
      const store = 'dir' in where ? where.dir : new PostgresStore({ connectionString: where.pg.url, schema: where.pg.schema });
      // on PostgreSQL the killed engine's lease runs out first (1.5 s), then this one takes the flow over
      engine = await Engine.open({ store, classes: sagaClasses, logger: silent, worker: { leaseTime: '1500ms', heartbeat: '300ms' } });
      const run = await drawSaga(new Andes(engine), scenario, requestId).start();
      expect(run.existing).to.equal(true);
      return run.result();
    }

    it('a compensation killed in compensate() runs again; the finished ones never do; Atlantic.fail runs once', async () => {
      const run = child('saga', 'saga-1', 'comp-b');
      await waitForJournal(journalFile, has('hanging saga-1 comp-b'), run);
      await kill(run);
      const before = readJournal(journalFile);
      expect(count(before, 'comp-done saga-1 c')).to.equal(1);
      expect(count(before, 'comp-start saga-1 a')).to.equal(0);

      const outcome = await recover('saga', 'saga-1');
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Broken' });
      expect(outcome.error).to.not.have.property('compensation');
      const lines = readJournal(journalFile);
      for (const name of ['a', 'b', 'c', 'broken'])
        expect(
          lines.filter((l) => l === `flow saga-1 ${name}`),
          `flow() of ${name}`,
        ).to.have.length(1);
      expect(count(lines, 'comp-start saga-1 c')).to.equal(1);
      expect(count(lines, 'comp-start saga-1 b 1')).to.equal(2);
      expect(count(lines, 'comp-done saga-1 b b-booked')).to.equal(1);
      expect(count(lines, 'comp-start saga-1 a')).to.equal(1);
      expect(count(lines, 'atlantic-fail saga-1 E_RIVER_FAILED 0')).to.equal(1);
      expect(indexOf(lines, 'comp-done saga-1 b')).to.be.below(indexOf(lines, 'comp-start saga-1 a'));
      expect(indexOf(lines, 'comp-done saga-1 a')).to.be.below(indexOf(lines, 'atlantic-fail saga-1'));
      const snap = (await engine!.get(outcome.id))!;
      expect(snap.streams.map((s) => s.state)).to.deep.equal(['compensated', 'compensated', 'compensated', 'fail']);
      expect(snap.streams[1]!.compensation).to.include({ state: 'success', attempts: 1 });
      // the call the kill cut short stays in the history, unended, before the one that ran again
      const calls = snap.streams[1]!.history.filter((h) => h.phase === 'compensate');
      expect(calls.map((h) => [h.attempt, h.endedAt !== undefined])).to.deep.equal([
        [1, false],
        [1, true],
      ]);
      expect(snap.atlantic).to.deep.equal({ hook: 'fail', done: true });
      expect((await engine!.redrive(outcome.id).catch((e: { code?: string }) => e)) as { code?: string }).to.have.property('code', 'E_CONFLICT');
    });

    if (kind === 'LevelDB') {
      it('a compensation killed in its retry wait resumes at its recorded due time, with its attempt count', async () => {
        const run = child('saga-retry', 'retry-1', '');
        const seen = await waitForJournal(journalFile, has('comp-fail retry-1 b 1'), run);
        const t1 = Number(seen.find((l) => l.startsWith('comp-start retry-1 b 1'))!.split(' ')[4]);
        // kill well inside the 1.5 s wait, then resume at once
        await new Promise((r) => setTimeout(r, 500));
        await kill(run);

        const outcome = await recover('saga-retry', 'retry-1');
        expect(outcome.status).to.equal('fail');
        const lines = readJournal(journalFile);
        expect(count(lines, 'comp-start retry-1 b 1')).to.equal(1);
        expect(count(lines, 'comp-start retry-1 b 2')).to.equal(1);
        const t2 = Number(lines.find((l) => l.startsWith('comp-start retry-1 b 2'))!.split(' ')[4]);
        expect(t2 - t1).to.be.at.least(1500 - 5);
        expect(t2 - t1, 'resumed with the time left, not a new full wait').to.be.below(1500 + 1000);
        expect(count(lines, 'comp-start retry-1 a')).to.equal(1);
        expect(count(lines, 'atlantic-fail retry-1 E_RIVER_FAILED 0')).to.equal(1);
        const snap = (await engine!.get(outcome.id))!;
        expect(snap.streams[1]!.compensation).to.include({ state: 'success', attempts: 2 });
      });
    }
  });
}
