// W5: recovery: W1's flows killed (SIGKILL) mid-run, then the store reopened. W5pg: the same on
// PostgreSQL, where a new engine takes the killed one's flows over once its lease has run out.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Engine, LevelStore } from 'vastflow';
import { cpuMs, diamondClasses, EndClock, round, silent, tempDir, type Scenario } from '../common.js';
import { admin, allEnded, dropSchema, endedFlows, heldBy, pgStore, resumedOf, schemaName, serverCpuSince, sleep, W5PG_WORKER, watchOthers } from '../pg.js';

const CHILD = fileURLToPath(new URL('./w5-child.js', import.meta.url));

/** Runs the child on `dir` (or `pg:<schema>`) and SIGKILLs it once half the flows have ended; resolves at the kill. */
async function killHalfway(dir: string, flows: number): Promise<void> {
  const child = spawn(process.execPath, [CHILD, dir, String(flows)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ended = [...out.matchAll(/ended (\d+)/g)].map((m) => Number(m[1]));
      if (ended.some((n) => n >= flows / 2)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`W5 child exited (${code}) before it was killed`)));
  });
  await new Promise((r) => child.once('close', r));
}

export const w5: Scenario = {
  id: 'W5',
  title: 'recovery after SIGKILL mid-run',
  repeats: 1,
  async run({ quick }) {
    const flows = quick ? 1000 : 10_000;
    const dir = tempDir('w5');
    await killHalfway(dir, flows);
    const peek = LevelStore.at(dir);
    await peek.open();
    const unfinished = (await peek.listUnfinished()).length;
    await peek.close();

    EndClock.ended.clear();
    const t0 = performance.now();
    const engine = await Engine.open({ store: dir, logger: silent, classes: diamondClasses, concurrency: 200 });
    const recoverMs = performance.now() - t0;
    while (EndClock.ended.size < unfinished) await new Promise((r) => setTimeout(r, 2));
    const allEndedMs = performance.now() - t0;
    const left = (await engine.list({ status: 'running' })).length + (await engine.list({ status: 'waiting' })).length;
    await engine.close();
    if (left !== 0) throw new Error(`W5: ${left} flows did not end after recovery`);
    return { primary: 'recover_ms', figures: { flows, unfinished, recover_ms: round(recoverMs, 0), all_ended_ms: round(allEndedMs, 0) } };
  },
};

export const w5pg: Scenario = {
  id: 'W5pg',
  title: 'recovery after SIGKILL mid-run, PostgreSQL, 3,000 flows, lease 1 s',
  repeats: 1,
  async run({ quick }) {
    const flows = quick ? 300 : 3000;
    const db = await admin();
    const schema = schemaName('w5pg');
    try {
      const others = await watchOthers();
      await killHalfway(`pg:${schema}`, flows);
      const killedAt = performance.now();
      // a write the child sent just before it died may still commit: let it
      await sleep(50);
      const held = await heldBy(db, schema, W5PG_WORKER);
      const unfinished = flows - (await endedFlows(db, schema));

      const serverSince = serverCpuSince();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { store } = pgStore(schema);
      const engine = await Engine.open({ store, logger: silent, classes: diamondClasses, concurrency: 200, worker: { heartbeat: '200ms', leaseTime: '1s' } });
      const openMs = performance.now() - t0;
      let recoverMs: number | undefined;
      for (;;) {
        if (recoverMs === undefined && (await resumedOf(db, schema, held, W5PG_WORKER)) === held.length) recoverMs = performance.now() - t0;
        if (await allEnded(db, schema)) break;
        await sleep(20);
      }
      recoverMs ??= performance.now() - t0;
      const allEndedMs = performance.now() - t0;
      const cpu = cpuMs(cpu0);
      const server = serverSince();
      await engine.close();
      return {
        primary: 'recover_ms',
        figures: {
          flows,
          unfinished,
          held_by_killed: held.length,
          lease_ms: 1000,
          open_ms: round(openMs, 0),
          recover_ms: round(recoverMs, 0),
          kill_to_recovered_ms: round(t0 - killedAt + recoverMs, 0),
          all_ended_ms: round(allEndedMs, 0),
          cpu_ms_per_flow: round(cpu / unfinished, 3),
          server_cpu_ms_per_flow: round(server / unfinished, 3),
          total_cpu_ms_per_flow: round((cpu + server) / unfinished, 3),
          ...(await others.stop()),
        },
      };
    } finally {
      await dropSchema(db, schema);
      await db.end();
    }
  },
};
