#!/usr/bin/env node
// The `vastflow` command (package.json bin): see docs/operators.md, or `vastflow --help`.
import { runCli } from './cli.js';

const stopped = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stopped,
});
