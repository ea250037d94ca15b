// W5: recovery: W1's flows killed (SIGKILL) mid-run, then the store reopened.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Engine, LevelStore } from 'vastflow';
import { diamondClasses, EndClock, round, silent, tempDir, type Scenario } from '../common.js';

const CHILD = fileURLToPath(new URL('./w5-child.js', import.meta.url));

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
