// npm run bench [-- --quick] [-- --only W1,W3]: runs the workloads of ../shared/BENCH.md on the
// compiled library, one JSON line per workload, then a markdown table of the targets.
// npm run bench:pg runs only the PostgreSQL ones (server at env VASTFLOW_PG_URL).
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { cleanup, round, type Measure, type Scenario } from './common.js';
import { w0a } from './scenarios/w0a-naive-level.js';
import { w0b } from './scenarios/w0b-device.js';
import { w1pg, w1spg } from './scenarios/w1-pg.js';
import { w1 } from './scenarios/w1-diamond.js';
import { w1f } from './scenarios/w1f-fsync.js';
import { w1s } from './scenarios/w1s-single.js';
import { w2 } from './scenarios/w2-memory.js';
import { w3, w3pg } from './scenarios/w3-poll.js';
import { w4, w4n } from './scenarios/w4-parked.js';
import { w5, w5pg } from './scenarios/w5-recovery.js';
import { w6 } from './scenarios/w6-engines.js';
import { w7, w7pg } from './scenarios/w7-dam.js';

const all: Scenario[] = [w0a, w0b, w1, w1s, w1f, w2, w3, w4, w4n, w5, w7, w1pg, w1spg, w3pg, w5pg, w6, w7pg];
/** The workloads on PostgreSQL (npm run bench:pg). */
const onPg = new Set([w1pg, w1spg, w3pg, w5pg, w6, w7pg]);
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only =
  onlyArg === undefined
    ? undefined
    : (onlyArg.includes('=') ? onlyArg.split('=')[1]! : (args[args.indexOf(onlyArg) + 1] ?? '')).split(',').map((s) => s.trim().toUpperCase());
const selected = only === undefined ? all : all.filter((s) => only.includes(s.id.toUpperCase()));
if (selected.length === 0) {
  console.error(`no workload matches --only ${only?.join(',')}; known: ${all.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

// a workload that runs in its own process (see Scenario.ownProcess): run once, print its measure
const childOf = args.indexOf('--child');
if (childOf >= 0) {
  const s = all.find((x) => x.id === args[childOf + 1]);
  if (s === undefined) throw new Error(`--child ${args[childOf + 1]}: no such workload`);
  try {
    console.log(JSON.stringify(await s.run({ quick })));
  } finally {
    cleanup();
  }
  process.exit(0);
}

async function inOwnProcess(s: Scenario): Promise<Measure> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', s.id, ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${s.id} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

const machine = {
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  memory_gb: round(os.totalmem() / 2 ** 30, 0),
};
console.log(JSON.stringify({ machine, quick }));

function median(runs: Measure[]): Measure {
  const key = runs[0]!.primary;
  return [...runs].sort((a, b) => a.figures[key]! - b.figures[key]!)[Math.floor(runs.length / 2)]!;
}

const results = new Map<string, Record<string, number>>();
try {
  // warm-up: the JIT and LevelDB's first open, not measured (and pg's, the server's caches)
  if (selected.some((s) => !onPg.has(s))) await w1.run({ quick: true });
  if (selected.some((s) => onPg.has(s))) await w1pg.run({ quick: true });
  cleanup();
  for (const s of selected) {
    const runs: Measure[] = [];
    for (let i = 0; i < s.repeats; i++) {
      runs.push(s.ownProcess === true ? await inOwnProcess(s) : await s.run({ quick }));
      cleanup();
    }
    const m = median(runs);
    results.set(s.id, m.figures);
    console.log(JSON.stringify({ workload: s.id, title: s.title, runs: runs.length, ...m.figures }));
  }
} finally {
  cleanup();
}

const f = (id: string, key: string): number | undefined => results.get(id)?.[key];
const ratio = (a?: number, b?: number): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
const rows: Array<[string, string, number | undefined, (v: number) => boolean, string]> = [
  ['W1 ÷ W0a (flows/s)', '>= 1.5', ratio(f('W1', 'flows_per_s'), f('W0a', 'flows_per_s')), (v) => v >= 1.5, 'x'],
  ['W1 records/s ÷ W0b puts/s', '>= 0.5', ratio(f('W1', 'records_per_s'), f('W0b', 'puts_per_s')), (v) => v >= 0.5, 'x'],
  ['W1 flows/s', '>= 10,000', f('W1', 'flows_per_s'), (v) => v >= 10_000, ''],
  ['W1s p50 latency', '<= 0.5 ms', f('W1s', 'p50_ms'), (v) => v <= 0.5, ' ms'],
  ['W1f ÷ W0a (flows/s)', '>= 0.9', ratio(f('W1f', 'flows_per_s'), f('W0a', 'flows_per_s')), (v) => v >= 0.9, 'x'],
  ['W2 ÷ W1 (flows/s)', '<= 2.5', ratio(f('W2', 'flows_per_s'), f('W1', 'flows_per_s')), (v) => v <= 2.5, 'x'],
  ['W1 CPU per flow', '<= 0.2 ms', f('W1', 'cpu_ms_per_flow'), (v) => v <= 0.2, ' ms'],
  ['W3 wall ÷ ideal', '<= 1.15', f('W3', 'wall_over_ideal'), (v) => v <= 1.15, 'x'],
  ['W4 RSS per parked flow', '<= 2 KB', f('W4', 'rss_bytes_per_flow'), (v) => v <= 2048, ' B'],
  ['W4n RSS per flow parked in a ParallelRiver', '<= 2 KB', f('W4n', 'rss_bytes_per_flow'), (v) => v <= 2048, ' B'],
  ['W4 start time', quick ? '<= 0.5 s (10k)' : '<= 5 s (100k)', f('W4', 'start_ms'), (v) => v <= (quick ? 500 : 5000), ' ms'],
  ['W5 recovery (resume all)', '<= 1 s', f('W5', 'recover_ms'), (v) => v <= 1000, ' ms'],
  ['W7 RSS per flow held at a Dam', '<= 2 KB', f('W7', 'rss_bytes_per_flow'), (v) => v <= 2048, ' B'],
  ['W7pg RSS per flow held at a Dam (PostgreSQL)', '<= 2 KB', f('W7pg', 'rss_bytes_per_flow'), (v) => v <= 2048, ' B'],
  ['W1pg flows/s', '>= 3,000', f('W1pg', 'flows_per_s'), (v) => v >= 3000, ''],
  ['W1pg server + engine CPU per flow', '<= 0.6 ms', f('W1pg', 'total_cpu_ms_per_flow'), (v) => v <= 0.6, ' ms'],
  ['W1spg p50 latency', '<= 5 ms', f('W1spg', 'p50_ms'), (v) => v <= 5, ' ms'],
  ['W6 flows/s, 2 engines ÷ 1', '>= 1', ratio(f('W6', 'flows_per_s_2'), f('W6', 'flows_per_s_1')), (v) => v >= 1, 'x'],
  ['W6 takeover of a SIGKILLed engine', '<= lease + 2 s (3 s)', f('W6', 'takeover_ms'), (v) => v <= 3000, ' ms'],
];
// W6's other figures: no target, shown as measured
const figureRows: Array<[string, number | undefined, string]> = [
  ['W6 flows/s, 1 engine', f('W6', 'flows_per_s_1'), ''],
  ['W6 flows/s, 2 engines', f('W6', 'flows_per_s_2'), ''],
  ['W6 flows/s, 3 engines', f('W6', 'flows_per_s_3'), ''],
  ['W6 flows/s, 3 engines, one SIGKILLed', f('W6', 'flows_per_s_3_killed'), ''],
  ['W6 all ended, after the kill', f('W6', 'all_ended_after_kill_ms'), ' ms'],
  ['W7 sends/s (LevelDB, 100,000 flows)', f('W7', 'sends_per_s'), ''],
  ['W7 all ended after the first send', f('W7', 'all_ended_ms'), ' ms'],
  ['W7pg sends/s (PostgreSQL, 10,000 flows)', f('W7pg', 'sends_per_s'), ''],
  ['W7pg all ended after the first send', f('W7pg', 'all_ended_ms'), ' ms'],
];
console.log(`\n| figure | target | measured | met |\n| --- | --- | --- | --- |`);
for (const [name, target, value, ok, unit] of rows) {
  if (value === undefined) continue;
  console.log(`| ${name} | ${target} | ${round(value, unit === 'x' ? 2 : 3)}${unit === 'x' ? '' : unit} | ${ok(value) ? 'yes' : 'no'} |`);
}
for (const [name, value, unit] of figureRows) if (value !== undefined) console.log(`| ${name} | (figure) | ${round(value, 0)}${unit} | |`);
console.log(
  `\n${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${quick ? 'quick (1/10 size)' : 'full size'}; median of 3 runs for W0-W3 and W1pg, W1spg, W3pg`,
);
if (quick)
  console.log(
    'A quick run checks that every workload runs: at a tenth of the size, what a process pays once (the JIT, the heap growing) weighs on W3 and W4; the targets are for a full run.',
  );
