// An engine on a shared store is a worker: its process stays up, finding work, until close(),
// with LISTEN/NOTIFY or without it (worker.listen: false, as behind pgbouncer in transaction mode).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child.js';
import { describePg, freshSchema, PG_URL } from '../helpers/postgres.js';

const PROGRAM = fileURLToPath(new URL('./worker-process.program.ts', import.meta.url));

describePg('the process of an engine on PostgreSQL', () => {
  for (const listen of [true, false]) {
    it(`stays up until the engine closes, with listen: ${listen}`, async function () {
      this.timeout(20_000);
      const { schema, drop } = freshSchema('process');
      const child = spawn(process.execPath, ['--import', 'tsx', PROGRAM, JSON.stringify({ url: PG_URL, schema, listen })], {
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
          void exited.then((code) => reject(new Error(`the child exited (${code}) before it was ready`)));
        });
        // five heartbeats: an engine that held nothing open would have let its process end by now
        const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('up'), 500))]);
        expect(early, 'the process while its engine is open').to.equal('up');
        child.kill('SIGTERM');
        expect(await exited, 'the exit once the engine closed').to.equal(0);
      } finally {
        child.kill('SIGKILL');
        await drop();
      }
    });
  }
});
