// W6: W1's diamond on one PostgreSQL schema run by 1, 2 and 3 engine processes sharing the flows
// (1 and 2 three times each, in turn, reported as medians), then by 3 of which one is SIGKILLed
// once a third of the flows have ended.
//
// Each phase first records all its flows as waiting, from a client engine (concurrency 0) that is
// closed before the engines start: what is timed is the engines' work alone (claiming from the
// queue, running, recording), with nothing else loading the two cores, and every engine count
// finds the same full queue. The engines are child processes started and loaded before the
// clock starts; they open their engines when told to go. The end is read from the store (whether
// any flow is unfinished, every 20 ms, through the index of unfinished flows), not by awaiting 10,000
// results.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Engine } from 'vastflow';
import { diamond, diamondClasses, round, silent, windowed, type Scenario } from '../common.js';
import {
  admin,
  allEnded,
  dropSchema,
  settle,
  endedFlows,
  heldBy,
  pgStore,
  processCpuMs,
  resumedOf,
  schemaName,
  serverCpuSince,
  sleep,
  watchOthers,
} from '../pg.js';

const CHILD = fileURLToPath(new URL('./w6-engine.js', import.meta.url));
const LEASE_MS = 1000;

function startEngine(schema: string, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, schema, id], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('loaded')) {
        child.stdout!.off('data', onData);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`W6 engine ${id} exited (${code}) before it loaded`)));
  });
}

async function stopEngines(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return undefined;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const force = setTimeout(() => c.kill('SIGKILL'), 5000);
      return exited.finally(() => clearTimeout(force));
    }),
  );
}

interface Phase {
  flows_per_s: number;
  cpu_ms_per_flow?: number;
  server_cpu_ms_per_flow?: number;
  held_by_killed?: number;
  takeover_ms?: number;
  all_ended_after_kill_ms?: number;
}

async function phase(flows: number, engines: number, kill: boolean): Promise<Phase> {
  const db = await admin();
  const schema = schemaName(`w6_${engines}${kill ? 'k' : ''}`);
  const children: ChildProcess[] = [];
  try {
    const client = await Engine.open({ store: pgStore(schema).store, logger: silent, classes: diamondClasses, concurrency: 0 });
    await windowed(flows, 500, async (i) => void (await diamond(client, `w6-${i}`).start()));
    await client.close();

    const ids = Array.from({ length: engines }, (_, k) => `w6-engine-${k + 1}`);
    children.push(...(await Promise.all(ids.map((id) => startEngine(schema, id)))));
    await settle(db, schema);
    const cpu0 = children.reduce((sum, c) => sum + processCpuMs(c.pid!), 0);
    const serverSince = serverCpuSince();
    const t0 = performance.now();
    for (const c of children) c.stdin!.write('go\n');

    let killedAt: number | undefined;
    let held: string[] = [];
    let takeoverMs: number | undefined;
    for (;;) {
      if (await allEnded(db, schema)) break;
      // the count (a read of every row) only until the kill
      if (kill && killedAt === undefined && (await endedFlows(db, schema)) >= flows / 3) {
        children[0]!.kill('SIGKILL');
        killedAt = performance.now();
        // a claim or write the engine sent just before it died may still commit: let it
        await sleep(50);
        held = await heldBy(db, schema, ids[0]!);
      }
      if (killedAt !== undefined && takeoverMs === undefined && (held.length === 0 || (await resumedOf(db, schema, held, ids[0]!)) === held.length)) {
        takeoverMs = performance.now() - killedAt;
      }
      await sleep(20);
    }
    const end = performance.now();
    const out: Phase = { flows_per_s: round(flows / ((end - t0) / 1000), 0) };
    if (!kill) {
      const cpu = children.reduce((sum, c) => sum + processCpuMs(c.pid!), 0) - cpu0;
      out.cpu_ms_per_flow = round(cpu / flows, 3);
      out.server_cpu_ms_per_flow = round(serverSince() / flows, 3);
    } else if (killedAt !== undefined) {
      out.held_by_killed = held.length;
      out.takeover_ms = round(takeoverMs ?? end - killedAt, 0);
      out.all_ended_after_kill_ms = round(end - killedAt, 0);
    }
    return out;
  } finally {
    await stopEngines(children);
    await dropSchema(db, schema);
    await db.end();
  }
}

/** The phase of median throughput (its CPU figures with it). */
function median(phases: Phase[]): Phase {
  return [...phases].sort((a, b) => a.flows_per_s - b.flows_per_s)[Math.floor(phases.length / 2)]!;
}

export const w6: Scenario = {
  id: 'W6',
  title: 'diamond, PostgreSQL, 10,000 flows, 1/2/3 engine processes (200 in flight each, lease 1 s), then one of 3 SIGKILLed',
  repeats: 1,
  async run({ quick }) {
    const flows = quick ? 1000 : 10_000;
    const others = await watchOthers();
    // one and two engines in turn, three times each, and the median of each: one phase alone swings by
    // 15 % with what the server does in the background (a checkpoint, the autovacuum of the schema
    // dropped before), and taking them in turn keeps a drift of the machine from favouring either
    const ones: Phase[] = [];
    const twos: Phase[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      ones.push(await phase(flows, 1, false));
      twos.push(await phase(flows, 2, false));
    }
    const one = median(ones);
    const two = median(twos);
    const three = await phase(flows, 3, false);
    const killed = await phase(flows, 3, true);
    return {
      primary: 'flows_per_s_1',
      figures: {
        flows,
        flows_per_s_1: one.flows_per_s,
        flows_per_s_2: two.flows_per_s,
        flows_per_s_1_min: Math.min(...ones.map((p) => p.flows_per_s)),
        flows_per_s_1_max: Math.max(...ones.map((p) => p.flows_per_s)),
        flows_per_s_2_min: Math.min(...twos.map((p) => p.flows_per_s)),
        flows_per_s_2_max: Math.max(...twos.map((p) => p.flows_per_s)),
        flows_per_s_3: three.flows_per_s,
        cpu_ms_per_flow_1: one.cpu_ms_per_flow!,
        cpu_ms_per_flow_2: two.cpu_ms_per_flow!,
        cpu_ms_per_flow_3: three.cpu_ms_per_flow!,
        server_cpu_ms_per_flow_1: one.server_cpu_ms_per_flow!,
        server_cpu_ms_per_flow_2: two.server_cpu_ms_per_flow!,
        server_cpu_ms_per_flow_3: three.server_cpu_ms_per_flow!,
        flows_per_s_3_killed: killed.flows_per_s,
        held_by_killed: killed.held_by_killed ?? 0,
        lease_ms: LEASE_MS,
        takeover_ms: killed.takeover_ms ?? NaN,
        all_ended_after_kill_ms: killed.all_ended_after_kill_ms ?? NaN,
        ...(await others.stop()),
      },
    };
  },
};
