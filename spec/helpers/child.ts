import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readJournal } from '../crash/rivers.js';

const PROGRAM = fileURLToPath(new URL('../crash/program.ts', import.meta.url));

export interface ChildRun {
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the child has exited. */
  exited: Promise<number | string>;
}

/**
 * Starts a crash program (by default spec/crash/program.ts) in a child process. A `held` child
 * gets a pipe for stdin: it loads its modules and then waits for {@link release} before it
 * touches the store, so that its start-up can overlap the run of the child before it.
 */
export function startProgram(args: object, env: Record<string, string>, options: { program?: string; held?: boolean } = {}): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', options.program ?? PROGRAM, JSON.stringify(args)], {
    env: childEnv(env),
    stdio: [options.held === true ? 'pipe' : 'ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) process.stderr.write(`crash program exited ${code}:\n${stderr}\n`);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { child, exited };
}

/** Polls the journal until `ready` holds (or the child exits, or `timeoutMs` passes). */
export async function waitForJournal(file: string, ready: (lines: string[]) => boolean, run: ChildRun, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.exited.then(() => (exited = true));
  for (;;) {
    const lines = readJournal(file);
    if (ready(lines)) return lines;
    if (exited) throw new Error(`the child exited before the journal was ready:\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      run.child.kill('SIGKILL');
      throw new Error(`timed out waiting for the journal:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** SIGKILLs the child and waits until it is gone. */
export async function kill(run: ChildRun): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
}

/** Lets a `held` child go on: it reads one line from its stdin. */
export function release(run: ChildRun): void {
  run.child.stdin!.end('go\n');
}

/**
 * The environment of a child process the specs start: this one's plus `extra`, without coverage
 * collection. The test process loads lib/ through tsx's CommonJS transform and a child through its
 * ESM one, and c8 cannot merge the counts of two different compilations of one file: it reported
 * code the suite runs as uncovered. The test process runs every path the children run. (Set
 * empty, not deleted: Node gives a child its parent's NODE_V8_COVERAGE unless the child has one.)
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, NODE_V8_COVERAGE: '' };
}
