// Rivers for the cluster tests: engines in several processes share one PostgreSQL schema and run
// these; each call appends `<requestId> <river> <phase> <attempt|cycle> <engineId> <ms>` to a
// journal file with a synchronous append, so every line written before a SIGKILL survives it and
// the lines of all processes interleave in the order they happened. The test process loads this
// module too (as an engine of its own, or to draw flows); env sets each child's engine id and which
// rivers hold in it.
import fs from 'node:fs';
import net from 'node:net';
import { Atlantic, Basin, Dam, FatalError, Headwaters, ParallelRiver, River, type Andes, type RiverAttr, type RiverContext } from '../../lib/index.js';

export const settings = {
  journal: process.env['VASTFLOW_CLUSTER_JOURNAL'] ?? '',
  /** The id this process's rivers journal under. */
  engine: process.env['VASTFLOW_CLUSTER_ENGINE'] ?? 'parent',
  /** Rivers (comma-separated names) that hold in this process (see `gate`). */
  hold: process.env['VASTFLOW_CLUSTER_HOLD'] ?? '',
  /** When set, a held flow() waits until this file exists, then goes on (its signal unheeded). */
  gate: process.env['VASTFLOW_CLUSTER_GATE'] ?? '',
  /**
   * A river whose first flow() in this process stops the process (SIGSTOP) right after it returns:
   * while the write of its success is on its way to the database, its answer not read yet.
   */
  stopAfter: process.env['VASTFLOW_CLUSTER_STOP_AFTER'] ?? '',
};

export function journal(line: string): void {
  if (settings.journal !== '') fs.appendFileSync(settings.journal, `${line} ${Date.now()}\n`);
}

/** One journal line, split. */
export interface Entry {
  requestId: string;
  river: string;
  phase: string;
  n: number;
  engine: string;
  at: number;
  /** The line's index in the journal. */
  index: number;
}

export { readJournal } from '../crash/rivers.js';

/** The journal's river lines, parsed (lines beginning with `#` are the processes' own notes). */
export function entries(lines: string[]): Entry[] {
  const out: Entry[] = [];
  lines.forEach((l, index) => {
    const f = l.split(' ');
    if (f[0] === '#' || f.length !== 6) return;
    out.push({ requestId: f[0]!, river: f[1]!, phase: f[2]!, n: Number(f[3]), engine: f[4]!, at: Number(f[5]), index });
  });
  return out;
}

const holds = (name: string): boolean => settings.hold.split(',').includes(name);

/** Waits until the call's signal aborts (the flow was cancelled or failed), then throws. */
const untilStopped = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    if (signal.aborted) return reject(new Error('stopped'));
    signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the file exists. */
async function gate(file: string): Promise<void> {
  while (!fs.existsSync(file)) await sleep(10);
}

/** A held call: until the gate file exists, or else until its flow is stopped. */
const held = (signal: AbortSignal): Promise<void> => (settings.gate !== '' ? gate(settings.gate) : untilStopped(signal));

/** A durable step: journals its call, holds when told to, and puts `<name>-<engine>` into the headwaters. */
export class Step extends River<{ name: string; ms?: number }> {
  static riverName = 'Cluster.Step';
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const name = this.config!.name;
    const engine = settings.engine;
    journal(`${hw.requestId} ${name} flow ${ctx.attempt} ${engine}`);
    if (holds(name)) await held(ctx.signal);
    else if (this.config!.ms) await sleep(this.config!.ms);
    hw.put(name, `${name}-${engine}`);
    journal(`${hw.requestId} ${name} done ${ctx.attempt} ${engine}`);
    stopIfAfter(name);
  }
}

/**
 * Stops this process right after the river `name` returns, when told to (settings.stopAfter),
 * once: as soon as the engine has sent its next write to the database (the river's end), before
 * its answer can be read. A timer raced the answer: on a loaded machine the write landed first and
 * the engine went on to the next river or the hook before it stopped.
 */
function stopIfAfter(name: string): void {
  if (settings.stopAfter !== name) return;
  settings.stopAfter = '';
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    const sent = write.apply(this, args);
    // a TCP socket (the database's); the rest of the query's messages are written in this same turn
    if (this.remotePort !== undefined) {
      net.Socket.prototype.write = write;
      process.nextTick(() => process.kill(process.pid, 'SIGSTOP'));
    }
    return sent;
  } as typeof write;
}

/** A step undone by compensate(), which journals its call. */
export class Undone extends Step {
  static riverName = 'Cluster.Undone';
  async compensate(hw: Headwaters) {
    journal(`${hw.requestId} ${this.config!.name} compensate 1 ${settings.engine}`);
  }
}

/** Fails for good (FatalError: no retry). */
export class Fails extends River<{ name: string }> {
  static riverName = 'Cluster.Fails';
  async flow(hw: Headwaters, ctx: RiverContext) {
    journal(`${hw.requestId} ${this.config!.name} flow ${ctx.attempt} ${settings.engine}`);
    stopIfAfter(this.config!.name);
    throw new FatalError(`${this.config!.name} failed`);
  }
}

/** A step under another class name: the class some engines lack. */
export class Special extends Step {
  static riverName = 'Cluster.Special';
}

/** flow() once, then polls every `intervalMs`; done on its first poll unless it holds here. */
export class Poll extends River<{ intervalMs: number }> {
  static riverName = 'Cluster.Poll';
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.cycleTimes = 100_000;
    attr.cycleInterval = this.config!.intervalMs;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    journal(`${hw.requestId} poll flow ${ctx.attempt} ${settings.engine}`);
  }
  async cycle(hw: Headwaters, ctx: RiverContext) {
    journal(`${hw.requestId} poll cycle ${ctx.cycle} ${settings.engine}`);
    if (holds('poll')) return false;
    hw.put('poll', `poll-${settings.engine}`);
    return true;
  }
}

export class End extends Atlantic {
  static riverName = 'Cluster.End';
  async success(hw: Headwaters) {
    journal(`${hw.requestId} atlantic success 0 ${settings.engine}`);
  }
  async fail(hw: Headwaters) {
    journal(`${hw.requestId} atlantic fail 0 ${settings.engine}`);
  }
}

export const classesByName = { Step, Special, Poll, End, Undone, Fails } as const;
export type ClassName = keyof typeof classesByName;
export const allClasses = Object.values(classesByName);

export type Kind = 'three' | 'special' | 'poll' | 'mixed' | 'dam' | 'saga';

/**
 * Draws a flow of the kind for one requestId: three steps a, b, c; a, special s, c; a step and a
 * poll; or, `mixed`, one of four shapes by the requestId's number: the three steps, a parallel
 * river (a | b) then c, a basin of a and b then c, or a step and a poll; or, `dam`, a step, a Dam
 * held until the message `go`, and a step c; or, `saga`, a step a that compensate() undoes and a
 * river f that fails for good.
 */
export function draw(andes: Andes, kind: Kind, requestId: string, options: { ms?: number; intervalMs?: number } = {}): Andes {
  andes.drawHeadwaters(new Headwaters(requestId)).drawAtlantic(new End());
  const step = (name: string) => new Step(options.ms === undefined ? { name } : { name, ms: options.ms });
  switch (kind) {
    case 'three':
      return andes.drawStream(step('a'), step('b'), step('c'));
    case 'special':
      return andes.drawStream(step('a'), new Special({ name: 's' }), step('c'));
    case 'poll':
      return andes.drawStream(step('a'), new Poll({ intervalMs: options.intervalMs ?? 100 }));
    case 'dam':
      return andes.drawStream(step('a'), new Dam('go'), step('c'));
    case 'saga':
      return andes.drawStream(new Undone({ name: 'a' }), new Fails({ name: 'f' }));
    case 'mixed': {
      const shape = Number(/(\d+)$/.exec(requestId)?.[1] ?? 0) % 4;
      if (shape === 0) return andes.drawStream(step('a'), step('b'), step('c'));
      if (shape === 1) return andes.drawStream(new ParallelRiver().append(step('a')).append(step('b')), step('c'));
      if (shape === 2) return andes.drawStream(new Basin().drawStream(step('a'), step('b')), step('c'));
      return andes.drawStream(step('a'), new Poll({ intervalMs: options.intervalMs ?? 30 }));
    }
  }
}
