// A fixed worker.id on PostgreSQL: a second live engine of one id is refused, and an engine
// restarted with the id of one that was SIGKILLed takes over at once what the dead one held (before,
// the live heartbeat of the id kept the dead engine's claims alive: its flows never resumed).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, PostgresStore } from '../../lib/index.js';
import { kill, startProgram, waitForJournal, type ChildRun } from '../helpers/child.js';
import { describePg, freshSchema, PG_URL } from '../helpers/postgres.js';
import { rejects, silent, until } from '../helpers/stores.js';
import { damClasses } from './dam-rivers.js';
import { readJournal, settings } from './rivers.js';

const PROGRAM = fileURLToPath(new URL('./dam-program.ts', import.meta.url));

describePg('a fixed worker.id on PostgreSQL', function () {
  this.timeout(30_000);
  let tmp: string;
  let journalFile: string;
  let schema: string;
  let drop: () => Promise<void>;
  let child: ChildRun | undefined;
  const engines: Engine[] = [];
  const open = async (id: string) => {
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    const e = await Engine.open({ store, classes: damClasses, logger: silent, worker: { id, heartbeat: '100ms', leaseTime: '60s' } });
    engines.push(e);
    return e;
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-worker-id-'));
    journalFile = path.join(tmp, 'journal.log');
    settings.journal = journalFile;
    ({ schema, drop } = freshSchema('workerid'));
  });

  afterEach(async () => {
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) await kill(child);
    child = undefined;
    for (const e of engines.splice(0)) await e.close();
    settings.journal = '';
    fs.rmSync(tmp, { recursive: true, force: true });
    await drop();
  });

  it('refuses a second engine with the id of a live one (E_CONFLICT, naming the id)', async () => {
    await open('api-1');
    const err = await rejects(open('api-1'));
    expect(err).to.have.property('code', 'E_CONFLICT');
    expect(err.message).to.contain('"api-1"');
    expect((await open('api-2')).workers).to.be.a('function');
  });

  it('an engine restarted with the id of a SIGKILLed one resumes its flows at once, not after its 60 s lease', async () => {
    child = startProgram(
      { store: { url: PG_URL, schema }, worker: { id: 'api-1', heartbeat: '100ms', leaseTime: '60s' } },
      { VASTFLOW_CRASH_JOURNAL: journalFile },
      { program: PROGRAM },
    );
    const lines = await waitForJournal(journalFile, (l) => l.some((x) => x.startsWith('held')), child);
    const id = lines.find((l) => l.startsWith('held'))!.split(' ')[1]!;
    await kill(child);
    const heir = await open('api-1');
    await heir.send(id, 'go', 'after the restart');
    await until(async () => (await heir.get(id))?.status === 'success', 5000, 'the flow resumed by the restarted engine');
    expect((await heir.get(id))!.headwaters['go']).to.equal('after the restart');
    const journal = readJournal(journalFile);
    expect(journal.filter((l) => l.startsWith('before dam-0'))).to.have.length(1);
    expect(journal.find((l) => l.startsWith('after dam-0'))).to.include(String(process.pid));
  });
});
