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

/** A `vastflow ui` child process that serves. */
export interface ServingUi {
  url: string;
  /** Stops it (SIGTERM); resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts the built `vastflow ui …` with `args` (`--port 0` for a free port); resolves once it serves. */
export async function serveUi(args: string[]): Promise<ServingUi> {
  const child = spawn(process.execPath, [MAIN, 'ui', ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const stop = (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`vastflow ui exited ${code} before it served`)));
      setTimeout(() => reject(new Error('vastflow ui did not serve within 20 s')), 20_000).unref();
    });
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs the CLI in this process (the same code: counted by coverage). */
export async function inProcess(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { ...env } });
  return { code, stdout, stderr };
}
