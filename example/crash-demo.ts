// npm run example:crash: runs the VM-and-volume flow in a child process that kills itself with
// SIGKILL in the middle of a cycle, then opens the same LevelDB directory here, shows what the
// store recorded, and lets the engine resume the flow to its end.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from 'vastflow';
import { classes, printProgress, vmVolumeFlow } from './vm-volume-flow.js';

const [mode, dir] = process.argv.slice(2);

if (mode === 'child') {
  // The doomed process: start the flow and die at the second poll of the VM.
  const engine = await Engine.open({ store: dir!, classes });
  printProgress(engine);
  engine.on('river:cycle', (e) => {
    if (e.river === 'CreateVm' && e.cycle === 2) {
      console.log('  *** child: SIGKILL in the middle of the cycle ***');
      process.kill(process.pid, 'SIGKILL');
    }
  });
  await vmVolumeFlow(engine, 'crash-demo', 'web-1').start();
} else {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-crash-demo-'));
  try {
    console.log(`child process: starting the flow on ${store}`);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', store], { stdio: 'inherit' });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    console.log(`child process: ended by ${String(signal)}`);

    // first a look at the store as the crash left it, without resuming anything
    const reader = await Engine.open({ store, classes, recover: false });
    const [summary] = await reader.list();
    const snap = await reader.get(summary!.id);
    console.log(`recorded before the crash (flow ${snap!.status}):`);
    for (const s of snap!.streams) console.log(`  ${s.id.padEnd(6)} ${s.name.padEnd(18)} ${s.state.padEnd(8)} attempts ${s.attempts} polls ${s.cycles}`);
    await reader.close();

    console.log('this process: opening the store again; recovery resumes the flow');
    const engine = await Engine.open({ store, classes });
    printProgress(engine);
    // idempotent start: the requestId is known, so this returns the resumed flow
    const run = await vmVolumeFlow(engine, 'crash-demo', 'web-1').start();
    const outcome = await run.result();
    console.log(`resumed flow ${outcome.id}: ${outcome.status}`);
    console.log('headwaters:', JSON.stringify(outcome.headwaters));
    await engine.close();
    if (outcome.status !== 'success') process.exitCode = 1;
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}
