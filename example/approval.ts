// npm run example:approval: a purchase flow that waits at a Dam for a manager's approval, with a
// timeout. This process runs the engine (on PostgreSQL: a fresh database on the server at env
// VASTFLOW_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres); a second process starts
// the purchases and sends the approval from its own engine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Engine } from 'vastflow';
import { classes } from './approval/purchase.js';

const base = process.env['VASTFLOW_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `vastflow_approval_${process.pid}`;
const url = Object.assign(new URL(base), { pathname: `/${database}` }).toString();

const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
try {
  const engine = await Engine.open({ store: url, classes, worker: { id: 'purchasing' } });
  engine.on('flow:message', (e) => console.log(`engine: ${e.requestId} took message "${e.name}"`));
  const ended = new Promise<void>((resolve) => {
    let count = 0;
    engine.on('flow:end', (e) => {
      console.log(`engine: ${e.requestId} ended ${e.status}${e.error ? ` (${e.error.code})` : ''}`);
      if (++count === 2) resolve();
    });
  });

  const manager = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./approval/manager.ts', import.meta.url)), url], { stdio: 'inherit' });
  await new Promise((resolve) => manager.on('exit', resolve));
  await ended;
  await engine.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
