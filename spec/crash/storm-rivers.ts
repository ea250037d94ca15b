// Rivers and flow shapes for the kill-storm crash test. Every side effect appends one line to the
// crash journal (rivers.ts: synchronous appends, so each line written before a SIGKILL survives):
//   start <requestId> <river> <attempt>     flow() began           done  <requestId> <river> <attempt>   flow() returned
//   throw <requestId> <river> <attempt>     flow() threw           poll  <requestId> <river> <cycle>     cycle() ran
//   hook-start <requestId> success|fail     an Atlantic hook began hook-done <requestId> success|fail    it returned
// Each line ends with the writer's pid and a `.`: the test tells the children apart by the pid,
// and a line without its `.` was torn by the SIGKILL (a write that crosses a page boundary of the
// file can be cut short by a fatal signal), so the test knows to drop it.
// A shape is plain data: the child draws its flow from it and the test derives from the same data
// what each flow must end as, which rivers must never start and what each river waits for.
import {
  Atlantic,
  Basin,
  Fork,
  Headwaters,
  ParallelRiver,
  River,
  type Andes,
  type BlueprintStream,
  type RiverAttr,
  type RiverContext,
  type Stream,
} from '../../lib/index.js';
import { journal as append, settings } from './rivers.js';

export { readJournal, settings } from './rivers.js';

/** Appends a line to the crash journal, with this process's pid and the end mark. */
export function journal(line: string): void {
  append(`${line} ${process.pid} .`);
}

/** Ends a line that a killed child left torn, so that this child's lines start on their own. */
export function endTornLine(): void {
  append('');
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// keeps the event loop alive, as real pending I/O would, until the process is killed
const never = (): Promise<never> => new Promise(() => setInterval(() => {}, 1000));

interface Named {
  name: string;
}

/** A durable step that puts `<name>: '<name>-done'`; `slowMs` makes it take a while (it ignores its signal). */
export class Step extends River<Named & { slowMs?: number }> {
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const { name, slowMs } = this.config!;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    await tick(slowMs === undefined ? Math.floor(Math.random() * 8) : slowMs / 2 + Math.floor((Math.random() * slowMs) / 2));
    hw.put(name, `${name}-done`);
    journal(`done ${hw.requestId} ${name} ${ctx.attempt}`);
  }
}

/** Fails its first two attempts, then succeeds: a retry that fails, then recovers. */
export class Flaky extends River<Named> {
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.retryTimes = 3;
    attr.retryInterval = 5;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const { name } = this.config!;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    await tick(Math.floor(Math.random() * 4));
    if (ctx.attempt < 3) {
      journal(`throw ${hw.requestId} ${name} ${ctx.attempt}`);
      throw new Error(`attempt ${ctx.attempt} of ${name} fails`);
    }
    hw.put(name, `${name}-done`);
    journal(`done ${hw.requestId} ${name} ${ctx.attempt}`);
  }
}

/** flow() once, then polls every 8 ms: done on the 3rd poll. */
export class Poll extends River<Named> {
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.cycleTimes = 5;
    attr.cycleInterval = 8;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const { name } = this.config!;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    hw.put(name, `${name}-done`);
    journal(`done ${hw.requestId} ${name} ${ctx.attempt}`);
  }
  async cycle(hw: Headwaters, ctx: RiverContext) {
    journal(`poll ${hw.requestId} ${this.config!.name} ${ctx.cycle}`);
    return ctx.cycle >= 3;
  }
}

/** Fails for good: both of its attempts throw. */
export class Fails extends River<Named> {
  update(attr: RiverAttr) {
    attr.retryTimes = 1;
    attr.retryInterval = 5;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const { name } = this.config!;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    await tick(Math.floor(Math.random() * 4));
    journal(`throw ${hw.requestId} ${name} ${ctx.attempt}`);
    throw new Error(`${name} fails for good`);
  }
}

/**
 * With settings.hang 'sibling' (in the child that is killed) it waits for the flow's signal, which
 * aborts once a sibling's failure is being recorded, journals `aborted`, and then hangs ignoring
 * it: the parallel river around it, and so the flow, cannot end. Elsewhere it just succeeds.
 */
export class Hangs extends River<Named> {
  async flow(hw: Headwaters, ctx: RiverContext) {
    const { name } = this.config!;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    if (settings.hang === 'sibling') {
      if (!ctx.signal.aborted) await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
      journal(`aborted ${hw.requestId} ${name}`);
      await never();
    }
    hw.put(name, `${name}-done`);
    journal(`done ${hw.requestId} ${name} ${ctx.attempt}`);
  }
}

/** Takes the branch named in its config: the choice is part of the shape, known to the test. */
export class Pick extends Fork<{ pick: string }> {
  choose() {
    return this.config!.pick;
  }
}

export class Sea extends Atlantic {
  async success(hw: Headwaters) {
    journal(`hook-start ${hw.requestId} success`);
    await tick(Math.floor(Math.random() * 3));
    journal(`hook-done ${hw.requestId} success`);
  }
  async fail(hw: Headwaters) {
    journal(`hook-start ${hw.requestId} fail`);
    await tick(Math.floor(Math.random() * 3));
    journal(`hook-done ${hw.requestId} fail`);
  }
}

export const stormClasses = [Step, Flaky, Poll, Fails, Hangs, Pick, Sea];

// ---- shapes -------------------------------------------------------------------------------------

type Leaf = { kind: 'step' | 'slow' | 'flaky' | 'poll' | 'fails' | 'hangs'; name: string };
export type Shape = Leaf | { parallel: Shape[][] } | { basin: Shape[] } | { fork: Record<string, Shape[]>; pick: string };

const step = (name: string): Leaf => ({ kind: 'step', name });
const slow = (name: string): Leaf => ({ kind: 'slow', name });
const flaky = (name: string): Leaf => ({ kind: 'flaky', name });
const poll = (name: string): Leaf => ({ kind: 'poll', name });
const fails = (name: string): Leaf => ({ kind: 'fails', name });
const par = (...branches: Shape[][]): Shape => ({ parallel: branches });
const basin = (...streams: Shape[]): Shape => ({ basin: streams });
const fork = (pick: string, branches: Record<string, Shape[]>): Shape => ({ fork: branches, pick });

/** The shapes of the storm, by name; flow i has shape `i % SHAPES.length` (forks pick by i's parity). */
const SHAPES: Array<[string, (i: number) => Shape[]]> = [
  ['chain', () => [step('a'), step('b'), step('c')]],
  ['parallel', () => [par([step('a')], [step('b'), step('c')]), step('d')]],
  ['basin', () => [step('a'), basin(step('b'), step('c')), step('d')]],
  ['fork', (i) => [step('a'), fork(i % 2 === 0 ? 'left' : 'right', { left: [step('l')], right: [step('r1'), step('r2')] }), step('d')]],
  ['retry', () => [step('a'), flaky('f'), step('b')]],
  ['poll', () => [step('a'), poll('p'), step('b')]],
  ['mixed', () => [par([basin(step('a'), flaky('f'))], [poll('p')]), step('z')]],
  ['fails', () => [step('a'), fails('x'), step('after')]],
  // the slow sibling keeps the parallel river (and the flow) from ending long after x's failure landed
  ['fails-parallel', () => [step('a'), par([fails('x')], [slow('s')]), step('after')]],
  ['fails-basin', () => [step('a'), basin(step('b'), fails('x'), step('inner')), step('after')]],
  ['fails-deep', () => [basin(par([slow('s')], [step('b'), fails('x'), step('inner2')]), step('inner')), step('after')]],
  ['fails-fork', (i) => [step('a'), fork(i % 2 === 0 ? 'left' : 'right', { left: [fails('x'), step('la')], right: [step('ra'), fails('x')] }), step('after')]],
];

export const stormRequestId = (i: number): string => `storm-${i}`;
export const indexOf = (requestId: string): number => Number(requestId.slice('storm-'.length));
export const shapeName = (i: number): string => SHAPES[i % SHAPES.length]![0];
export const shapeOf = (i: number): Shape[] => SHAPES[i % SHAPES.length]![1](i);

function toStream(s: Shape): Stream {
  if ('kind' in s) {
    switch (s.kind) {
      case 'step':
        return new Step({ name: s.name });
      case 'slow':
        return new Step({ name: s.name, slowMs: 60 });
      case 'flaky':
        return new Flaky({ name: s.name });
      case 'poll':
        return new Poll({ name: s.name });
      case 'fails':
        return new Fails({ name: s.name });
      case 'hangs':
        return new Hangs({ name: s.name });
    }
  }
  if ('parallel' in s) {
    const pr = new ParallelRiver();
    for (const b of s.parallel) pr.append(...b.map(toStream));
    return pr;
  }
  if ('basin' in s) return new Basin().drawStream(...s.basin.map(toStream));
  const f = new Pick({ pick: s.pick });
  for (const [name, b] of Object.entries(s.fork)) f.branch(name, ...b.map(toStream));
  return f;
}

/** Draws a flow of the given shape on an Andes. */
export function drawShape(andes: Andes, requestId: string, shape: Shape[]): Andes {
  return andes
    .drawHeadwaters(new Headwaters(requestId))
    .drawAtlantic(new Sea())
    .drawStream(...shape.map(toStream));
}

/** The flow of the deterministic test: a river fails for good while its parallel sibling hangs. */
export const hangShape: Shape[] = [step('a'), par([fails('x')], [{ kind: 'hangs', name: 'h' }]), step('c')];

/** What a shape promises, river by river. */
export interface RiverExpectation {
  /** Rivers whose `done` must be in the journal before this river's first `start`. */
  needs: string[];
  /** Drawn after a stream that fails for good, or in a branch the fork did not pick: never starts. */
  never: boolean;
}

export interface Expectation {
  status: 'success' | 'fail';
  rivers: Map<string, RiverExpectation>;
  /** The final headwaters of a successful flow: every river that ran put its name. */
  headwaters: Record<string, string>;
}

/** Derives from a shape how its flow must end and what each river may do. */
export function expectationOf(shape: Shape[]): Expectation {
  const rivers = new Map<string, RiverExpectation>();
  // `needs`: the rivers that have succeeded whenever this sequence gets here; `dead`: a stream
  // before (or the fork above) fails or is not taken, so nothing from here on may start
  const walk = (seq: Shape[], needs: string[], dead: boolean): { succeeded: string[]; failed: boolean } => {
    const before = [...needs];
    let failed = dead;
    for (const s of seq) {
      if ('kind' in s) {
        rivers.set(s.name, { needs: [...before], never: failed });
        if (s.kind === 'fails') failed = true;
        else if (!failed) before.push(s.name);
      } else if ('parallel' in s) {
        const branches = s.parallel.map((b) => walk(b, before, failed));
        if (!failed) before.push(...branches.flatMap((b) => b.succeeded));
        failed ||= branches.some((b) => b.failed);
      } else if ('basin' in s) {
        const inner = walk(s.basin, before, failed);
        if (!failed) before.push(...inner.succeeded);
        failed ||= inner.failed;
      } else {
        let picked: { succeeded: string[]; failed: boolean } | undefined;
        for (const [name, b] of Object.entries(s.fork)) {
          const r = walk(b, before, failed || name !== s.pick);
          if (name === s.pick) picked = r;
        }
        if (!failed) before.push(...picked!.succeeded);
        failed ||= picked!.failed;
      }
    }
    return { succeeded: before.slice(needs.length), failed };
  };
  const top = walk(shape, [], false);
  const headwaters: Record<string, string> = {};
  for (const name of top.succeeded) headwaters[name] = `${name}-done`;
  return { status: top.failed ? 'fail' : 'success', rivers, headwaters };
}

/** Each river's stream id in a stored blueprint, by the name in its config. */
export function riverIds(streams: BlueprintStream[], prefix = '', out = new Map<string, string>()): Map<string, string> {
  streams.forEach((s, i) => {
    const id = `${prefix}${i}`;
    if ('river' in s) out.set((s.config as unknown as Named).name, id);
    else if ('parallel' in s) s.parallel.forEach((b, bi) => riverIds(b, `${id}.${bi}.`, out));
    else if ('basin' in s) riverIds(s.basin.streams, `${id}.`, out);
    else if ('fork' in s) Object.values(s.branches).forEach((b, bi) => riverIds(b, `${id}.${bi}.`, out));
  });
  return out;
}
