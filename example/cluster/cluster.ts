// npm run example:cluster: three engine processes on one PostgreSQL database (a fresh database on
// the server at env VASTFLOW_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres), an API-like client
// engine here that only starts flows, and one engine killed with SIGKILL in the middle: its
// flows are taken over by the others once its lease has run out, and every order ends once.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Andes, Engine, Headwaters } from 'vastflow';
import { ChargeCard, classes, ReserveStock, ShipOrder } from './order-rivers.js';

const base = process.env['VASTFLOW_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `vastflow_example_${process.pid}`;
const url = Object.assign(new URL(base), { pathname: `/${database}` }).toString();
const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Resolves when the child's output has said `words`. */
function said(child: ChildProcess, words: string): Promise<void> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!out.includes(words)) return;
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
  });
}

async function startWorker(id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, url, id], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdout!.on('data', (d: Buffer) => process.stdout.write(d));
  await said(child, 'ready');
  return child;
}

const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const workers: ChildProcess[] = [];
try {
  // the client: concurrency 0, it starts flows and reads their outcomes, and runs none itself
  const client = await Engine.open({ store: url, classes, concurrency: 0, worker: { id: 'api' } });
  workers.push(...(await Promise.all(['engine-a', 'engine-b', 'engine-c'].map(startWorker))));

  const busy = said(workers[0]!, 'runs its first flow');
  const runs = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      new Andes(client)
        .drawHeadwaters(new Headwaters(`order-${i}`))
        .drawStream(new ReserveStock(), new ChargeCard(), new ShipOrder())
        .start(),
    ),
  );
  console.log(`client: started ${runs.length} orders`);

  // engine-a dies in the middle of its flows (each takes about 120 ms)
  await busy;
  await new Promise((r) => setTimeout(r, 50));
  console.log('engine-a: SIGKILL');
  workers[0]!.kill('SIGKILL');

  const outcomes = await Promise.all(runs.map((r) => r.result()));
  const ok = outcomes.filter((o) => o.status === 'success').length;
  console.log(`client: ${ok} of ${outcomes.length} orders succeeded`);
  console.log('live engines:', (await client.workers()).map((w) => w.id).join(', '));
  await client.close();
} finally {
  for (const w of workers.slice(1)) w.kill('SIGTERM');
  await Promise.all(workers.slice(1).map((w) => new Promise((r) => (w.exitCode === null ? w.on('exit', r) : r(null)))));
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
