import type { BlueprintStream } from './blueprint.js';

/** A stream's kind. */
export type StreamKind = 'river' | 'parallel' | 'basin' | 'fork' | 'dam';

/** The color of streams drawn outside any basin and given none. */
export const DEFAULT_COLOR = 'default';

/**
 * Stream addresses: the one numbering that the plan, the stored records, snapshots, diagrams and
 * the store's consistency check share. A stream's id is its position in the drawing: top-level
 * streams are `0`, `1`, …; stream `i` of branch `b` of the parallel river or fork `P` is `P.b.i`
 * (a fork's branches numbered in the order its blueprint lists them); stream `i` of basin `B` is
 * `B.i`.
 */
export const StreamAddress = Object.freeze({
  /** The id of stream `i` of a sequence whose ids begin with `prefix` (`''` at the top level). */
  at: (prefix: string, i: number): string => `${prefix}${i}`,
  /** The prefix of the ids in branch `b` of a parallel river or a fork. */
  branch: (id: string, b: number): string => `${id}.${b}.`,
  /** The prefix of the ids in a basin. */
  basin: (id: string): string => `${id}.`,
  /** True for a stream of the flow's top-level sequence. */
  isTopLevel: (id: string): boolean => !id.includes('.'),
});

/** A sequence inside a container stream: a parallel river's branch, a basin's streams, a fork's branch. */
export interface StreamSequence<S> {
  /** The branch's index (a parallel river), name (a fork), or '' (a basin). */
  name: string;
  /** The prefix of the ids of its streams. */
  prefix: string;
  streams: readonly S[];
  /** The color its streams take when they have none: a basin's own, else what the container inherited. */
  inherited: string | undefined;
}

/** A blueprint stream at its place: address, kind, registered name, resolved color and insides. */
export interface BlueprintNode {
  id: string;
  kind: StreamKind;
  /** The registered name (rivers and forks), or `ParallelRiver` / `Basin`. */
  name: string;
  color: string;
  stream: BlueprintStream;
  /** The sequences inside it, in order; none for a river. */
  sequences: Array<StreamSequence<BlueprintStream>>;
}

/** The blueprint stream `s` at address `id`, its color resolved against the `inherited` one. */
export function blueprintNode(s: BlueprintStream, id: string, inherited: string | undefined): BlueprintNode {
  if ('river' in s) return { id, kind: 'river', name: s.river, color: s.color ?? inherited ?? DEFAULT_COLOR, stream: s, sequences: [] };
  if ('dam' in s) return { id, kind: 'dam', name: s.dam ?? 'Dam', color: s.color ?? inherited ?? DEFAULT_COLOR, stream: s, sequences: [] };
  if ('parallel' in s) {
    const sequences = s.parallel.map((b, bi) => ({ name: String(bi), prefix: StreamAddress.branch(id, bi), streams: b, inherited }));
    return { id, kind: 'parallel', name: 'ParallelRiver', color: s.color ?? inherited ?? DEFAULT_COLOR, stream: s, sequences };
  }
  if ('basin' in s) {
    const own = s.basin.color ?? inherited;
    const sequences = [{ name: '', prefix: StreamAddress.basin(id), streams: s.basin.streams, inherited: own }];
    return { id, kind: 'basin', name: 'Basin', color: own ?? DEFAULT_COLOR, stream: s, sequences };
  }
  const sequences = Object.entries(s.branches).map(([name, b], bi) => ({ name, prefix: StreamAddress.branch(id, bi), streams: b, inherited }));
  return { id, kind: 'fork', name: s.fork, color: s.color ?? inherited ?? DEFAULT_COLOR, stream: s, sequences };
}

/** The nodes of a sequence of blueprint streams whose ids begin with `prefix`. */
export function blueprintSequence(streams: readonly BlueprintStream[], prefix = '', inherited?: string): BlueprintNode[] {
  return streams.map((s, i) => blueprintNode(s, StreamAddress.at(prefix, i), inherited));
}

/** Every stream of a blueprint, depth first in drawing order (the order of a plan's nodes). */
export function walkBlueprint(streams: readonly BlueprintStream[], visit: (node: BlueprintNode) => void): void {
  const walk = (nodes: BlueprintNode[]): void => {
    for (const n of nodes) {
      visit(n);
      for (const q of n.sequences) walk(blueprintSequence(q.streams, q.prefix, q.inherited));
    }
  };
  walk(blueprintSequence(streams));
}

/** The registered names a blueprint needs: its rivers', its forks' and its Atlantic's, sorted. */
export function blueprintClasses(bp: { streams: readonly BlueprintStream[]; atlantic?: string }): string[] {
  const names = new Set<string>();
  walkBlueprint(bp.streams, (n) => {
    if (n.kind === 'river' || n.kind === 'fork') names.add(n.name);
  });
  if (bp.atlantic !== undefined) names.add(bp.atlantic);
  return [...names].sort();
}
