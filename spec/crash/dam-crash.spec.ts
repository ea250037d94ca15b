// Dams under SIGKILL: a child process runs Before → Dam('go') → After and is killed while the Dam
// holds, just before or just after the write that consumes the message; this process (or another
// engine on PostgreSQL) resumes the flow. The message is consumed exactly once, Before never runs
// again, After runs once with the payload.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, PostgresStore } from '../../lib/index.js';
import { kill, startProgram, waitForJournal, type ChildRun } from '../helpers/child.js';
import { freshSchema, PG_URL, itPg } from '../helpers/postgres.js';
import { levelCommands, silent, until } from '../helpers/stores.js';
import { damClasses } from './dam-rivers.js';
import { readJournal, settings } from './rivers.js';

const PROGRAM = fileURLToPath(new URL('./dam-program.ts', import.meta.url));
const has = (text: string) => (lines: string[]) => lines.some((l) => l.startsWith(text));
const count = (lines: string[], text: string) => lines.filter((l) => l.startsWith(text)).length;

describe('Dams with real SIGKILLed processes', function () {
  this.timeout(30_000);
  let tmp: string;
  let journalFile: string;
  let engine: Engine | undefined;
  let child: ChildRun | undefined;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-dam-crash-'));
    journalFile = path.join(tmp, 'journal.log');
    settings.journal = journalFile;
  });

  afterEach(async () => {
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) await kill(child);
    child = undefined;
    await engine?.close();
    engine = undefined;
    settings.journal = '';
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const start = (args: object) => (child = startProgram(args, { VASTFLOW_CRASH_JOURNAL: journalFile }, { program: PROGRAM }));

  async function ended(e: Engine, id: string) {
    await until(async () => (await e.get(id))?.status === 'success', 10_000, 'the flow ending');
    return (await e.get(id))!;
  }

  it('a flow killed while its Dam holds waits again after the restart, and takes the message sent then', async () => {
    const db = path.join(tmp, 'db');
    const run = start({ store: db });
    const lines = await waitForJournal(journalFile, has('held'), run);
    const id = lines.find((l) => l.startsWith('held'))!.split(' ')[1]!;
    await kill(run);
    engine = await Engine.open({ store: db, classes: damClasses, logger: silent });
    expect((await engine.get(id))!.streams[1]).to.include({ kind: 'dam', state: 'waiting' });
    await engine.send(id, 'go', { n: 7 });
    const snap = await ended(engine, id);
    expect(snap.headwaters['go']).to.deep.equal({ n: 7 });
    const after = readJournal(journalFile);
    expect(count(after, 'before dam-0'), 'Before never runs again').to.equal(1);
    expect(after.filter((l) => l.startsWith('after dam-0'))).to.have.length(1);
    expect(after.find((l) => l.startsWith('after dam-0'))).to.include('{"n":7}');
  });

  for (const when of ['before-consume', 'after-consume'] as const) {
    it(`a flow killed ${when === 'before-consume' ? 'just before' : 'just after'} the write that consumes its message consumes it exactly once`, async () => {
      const db = path.join(tmp, 'db');
      const run = start({ store: db, kill: when, send: true });
      await run.exited;
      const held = readJournal(journalFile).find((l) => l.startsWith('held'));
      expect(held, 'the child reached the Dam').to.not.equal(undefined);
      const id = held!.split(' ')[1]!;
      engine = await Engine.open({ store: db, classes: damClasses, logger: silent });
      const snap = await ended(engine, id);
      expect(snap.headwaters['go']).to.deep.equal({ n: 1 });
      const lines = readJournal(journalFile);
      expect(count(lines, 'before dam-0')).to.equal(1);
      expect(count(lines, 'after dam-0'), 'After runs once, with the payload').to.equal(1);
      // the inbox is empty: the message is not there to be taken a second time
      await engine.close();
      engine = undefined;
      expect(await levelCommands(db, { flowId: id })).to.deep.equal([]);
    });
  }

  itPg('Dams: on PostgreSQL, a message sent to a flow whose engine was killed is consumed by the engine that takes it over', async () => {
    const { schema, drop } = freshSchema('damcrash');
    try {
      const run = start({ store: { url: PG_URL, schema }, worker: { id: 'doomed', heartbeat: '50ms', leaseTime: '400ms' } });
      const lines = await waitForJournal(journalFile, has('held'), run);
      const id = lines.find((l) => l.startsWith('held'))!.split(' ')[1]!;
      await kill(run);
      engine = await Engine.open({
        store: new PostgresStore({ connectionString: PG_URL, schema }),
        classes: damClasses,
        logger: silent,
        worker: { id: 'heir', heartbeat: '50ms', leaseTime: '400ms' },
      });
      // sent while the dead engine's lease may still hold: it waits in the inbox for whoever takes the flow
      await engine.send(id, 'go', 'from the heir');
      const snap = await ended(engine, id);
      expect(snap.headwaters['go']).to.equal('from the heir');
      const journal = readJournal(journalFile);
      expect(count(journal, 'before dam-0')).to.equal(1);
      expect(count(journal, 'after dam-0')).to.equal(1);
      expect(journal.find((l) => l.startsWith('after dam-0'))).to.include(String(process.pid));
      await engine.close();
      engine = undefined;
    } finally {
      await drop();
    }
  });
});
