// The vastflow CLI for specs: the built program as a child process, or runCli in this process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../lib/cli/cli.js';
import { childEnv } from './child.js';

/** The built `vastflow` program. */
export const MAIN = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`npm run build` first) as a child process. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: childEnv({ VASTFLOW_DB: '', VF_TOKEN: '', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs the CLI in this process (the same code: counted by coverage). */
export async function inProcess(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { ...env } });
  return { code, stdout, stderr };
}
