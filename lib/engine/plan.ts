import { isThenable } from '../util/deferred.js';
import type { ZodType } from 'zod';
import { VastflowError } from '../errors/vastflow-error.js';
import { Basin } from '../model/basin.js';
import { durationMs } from '../clock/duration.js';
import { Dam } from '../model/dam.js';
import { describeStream, MAX_STREAM_DEPTH } from '../model/blueprint.js';
import { Fork } from '../model/fork.js';
import { ParallelRiver } from '../model/parallel-river.js';
import { resolveRiverAttr, type ResolvedRiverAttr, type RiverAttr } from '../model/river-attr.js';
import { River } from '../model/river.js';
import { nameOf, type Stream } from '../model/stream.js';
import { DEFAULT_COLOR, StreamAddress } from '../model/stream-tree.js';

interface NodeBase {
  /** Position in the drawing: `2`, `0.1.0` (parallel 0, branch 1, stream 0), … */
  id: string;
  /** Position in {@link Plan.nodes}: where the runner keeps the stream's record. */
  index: number;
  name: string;
  color: string;
}
export interface RiverNode extends NodeBase {
  kind: 'river';
  /** The drawn class (the flow's object of it is in its {@link Instances}). */
  cls: Function;
  attr: ResolvedRiverAttr;
  input: ZodType | undefined;
}
export interface ParallelNode extends NodeBase {
  kind: 'parallel';
  branches: PlanNode[][];
}
export interface BasinNode extends NodeBase {
  kind: 'basin';
  streams: PlanNode[];
}
export interface ForkNode extends NodeBase {
  kind: 'fork';
  /** The drawn class (the flow's object of it is in its {@link Instances}). */
  cls: Function;
  branches: Map<string, PlanNode[]>;
}
export interface DamNode extends NodeBase {
  kind: 'dam';
  /** The message it waits for; null for a durable sleep. */
  message: string | null;
  /** The headwaters key of the payload. */
  key: string | undefined;
  /** ms until it times out (a message Dam) or opens (a durable sleep), from when it begins to hold. */
  waitMs: number | undefined;
  onTimeout: 'fail' | 'continue';
}
/** A compiled stream: what the runner executes. */
export type PlanNode = RiverNode | ParallelNode | BasinNode | ForkNode | DamNode;

/**
 * A compiled drawing: its structure only, never changed once compiled, so that the flows drawn
 * alike can share one (see PlanCache). The River and Fork objects of a flow are its {@link Instances}.
 */
export interface Plan {
  streams: PlanNode[];
  /** Every node, in drawing order. */
  nodes: PlanNode[];
  /** The River and Fork classes drawn, for the registry. */
  classes: Function[];
}

/** The River and Fork objects one flow drew, by node index (undefined at the other nodes). */
export type Instances = ReadonlyArray<River | Fork | undefined>;

/** Drawn streams compiled: the plan and the flow's own River and Fork objects. */
export interface Compiled {
  plan: Plan;
  instances: Instances;
}

/** What compile() builds as it walks the drawing. */
interface Building extends Plan {
  /** Pushed with each node: aligned with `nodes`. */
  instances: Array<River | Fork | undefined>;
}

/**
 * Compiles drawn streams: ids, colors, resolved attributes.
 * @throws VastflowError E_EMPTY_FLOW, E_DUPLICATE_STREAM, E_INVALID_ATTR; E_BLUEPRINT when streams nest more than 64 deep
 */
export function compile(streams: readonly Stream[]): Compiled {
  const b: Building = { streams: [], nodes: [], classes: [], instances: [] };
  if (streams.length === 0) throw new VastflowError('E_EMPTY_FLOW', 'the flow has no streams: draw at least one');
  const seen = new Set<Stream>();
  b.streams = seq(streams, '', undefined, b, seen);
  // exact-size copies: arrays grown by push keep spare room, and a parked flow keeps its plan
  const plan: Plan = { streams: b.streams, nodes: b.nodes.slice(), classes: b.classes.slice() };
  return { plan, instances: b.instances.slice() };
}

/** The River a flow drew at `node`. */
export const riverAt = (instances: Instances, node: RiverNode): River => instances[node.index] as River;

/** The Fork a flow drew at `node`. */
export const forkAt = (instances: Instances, node: ForkNode): Fork => instances[node.index] as Fork;

// `depth`: of the streams in this sequence (1 at the top level); past MAX_STREAM_DEPTH the drawing
// could not be loaded back from its blueprint, and the recursive walks here would near the stack's end
function seq(streams: readonly Stream[], prefix: string, color: string | undefined, plan: Building, seen: Set<Stream>, depth = 1): PlanNode[] {
  if (depth > MAX_STREAM_DEPTH) {
    throw new VastflowError('E_BLUEPRINT', `the drawing nests streams more than ${MAX_STREAM_DEPTH} deep (at ${prefix}0); flatten it`);
  }
  return streams.map((s, i) => node(s, StreamAddress.at(prefix, i), color, plan, seen, depth));
}

function node(s: Stream, id: string, inherited: string | undefined, plan: Building, seen: Set<Stream>, depth: number): PlanNode {
  if (seen.has(s)) {
    throw new VastflowError('E_DUPLICATE_STREAM', `${describeStream(s)} is drawn more than once (again at ${id}); draw a new instance`);
  }
  seen.add(s);
  const color = s.color ?? inherited ?? DEFAULT_COLOR;
  if (s instanceof River) {
    const name = nameOf(s);
    const raw: RiverAttr = {};
    let returned: unknown;
    try {
      returned = s.update(raw);
    } catch (err) {
      throw new VastflowError('E_INVALID_ATTR', `river ${name}: update() threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    // attributes set after a promise settles would be read by no one, and checked by no one
    if (isThenable(returned)) {
      void Promise.resolve(returned).catch(() => undefined);
      throw new VastflowError('E_INVALID_ATTR', `river ${name}: update() returned a promise; it must set the attributes at once (not async)`);
    }
    const input = (s.constructor as typeof River).input;
    if (input !== undefined && typeof (input as { safeParse?: unknown }).safeParse !== 'function') {
      throw new VastflowError('E_INVALID_ATTR', `river ${name}: static input must be a zod schema`);
    }
    if (!plan.classes.includes(s.constructor)) plan.classes.push(s.constructor);
    const n: RiverNode = {
      kind: 'river',
      id,
      index: plan.nodes.length,
      name,
      color,
      cls: s.constructor,
      attr: resolveRiverAttr(raw, name, s.cycle !== River.prototype.cycle),
      input,
    };
    plan.nodes.push(n);
    plan.instances.push(s);
    return n;
  }
  if (s instanceof ParallelRiver) {
    if (s.branches.length === 0) throw new VastflowError('E_EMPTY_FLOW', `parallel river at ${id} has no branches`);
    const n: ParallelNode = { kind: 'parallel', id, index: plan.nodes.length, name: 'ParallelRiver', color, branches: [] };
    plan.nodes.push(n);
    plan.instances.push(undefined);
    n.branches = s.branches.map((b, bi) => {
      if (b.length === 0) throw new VastflowError('E_EMPTY_FLOW', `parallel river at ${id}: branch ${bi} is empty`);
      return seq(b, StreamAddress.branch(id, bi), inherited, plan, seen, depth + 1);
    });
    return n;
  }
  if (s instanceof Basin) {
    if (s.streams.length === 0) throw new VastflowError('E_EMPTY_FLOW', `basin ${s.color ?? ''} at ${id} is empty`.replace('  ', ' '));
    const n: BasinNode = { kind: 'basin', id, index: plan.nodes.length, name: 'Basin', color, streams: [] };
    plan.nodes.push(n);
    plan.instances.push(undefined);
    n.streams = seq(s.streams, StreamAddress.basin(id), color, plan, seen, depth + 1);
    return n;
  }
  if (s instanceof Dam) {
    const wait = s.message === null ? s.delay : s.timeout;
    const n: DamNode = {
      kind: 'dam',
      id,
      index: plan.nodes.length,
      name: s.message ?? 'Dam',
      color,
      message: s.message,
      key: s.payloadKey,
      waitMs: wait === undefined ? undefined : durationMs(wait),
      onTimeout: s.onTimeout,
    };
    plan.nodes.push(n);
    plan.instances.push(undefined);
    return n;
  }
  if (s instanceof Fork) {
    const name = nameOf(s);
    const branches = s.branches;
    if (branches.size === 0) throw new VastflowError('E_EMPTY_FLOW', `fork ${name} at ${id} has no branches`);
    if (!plan.classes.includes(s.constructor)) plan.classes.push(s.constructor);
    const n: ForkNode = { kind: 'fork', id, index: plan.nodes.length, name, color, cls: s.constructor, branches: new Map() };
    plan.nodes.push(n);
    plan.instances.push(s);
    let bi = 0;
    for (const [b, streams] of branches) {
      if (streams.length === 0) throw new VastflowError('E_EMPTY_FLOW', `fork ${name} at ${id}: branch "${b}" is empty`);
      n.branches.set(b, seq(streams, StreamAddress.branch(id, bi++), inherited, plan, seen, depth + 1));
    }
    return n;
  }
  throw new TypeError(`not a stream: ${String(s)}`);
}

/** Every node below `n` (not `n` itself). */
export function descendants(n: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  const walk = (nodes: PlanNode[]): void => {
    for (const c of nodes) {
      out.push(c);
      if (c.kind !== 'river' && c.kind !== 'dam') walk(children(c));
    }
  };
  if (n.kind !== 'river' && n.kind !== 'dam') walk(children(n));
  return out;
}

function children(n: ParallelNode | BasinNode | ForkNode): PlanNode[] {
  if (n.kind === 'parallel') return n.branches.flat();
  if (n.kind === 'basin') return n.streams;
  return [...n.branches.values()].flat();
}
