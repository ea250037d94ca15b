import { blueprintSequence, type BlueprintNode, type StreamKind } from '../model/stream-tree.js';
import { isFinal, type StoredFlow, type StreamState } from './records.js';

interface Node {
  id: string;
  kind: StreamKind;
  state: StreamState;
  choice: string | undefined;
  /** A river's compensation state, once it began. */
  compensation: string | undefined;
  /** The sequences inside a container: a parallel's branches, a basin's one, a fork's by name. */
  sequences: Array<{ name: string; nodes: Node[] }>;
}

function tree(flow: StoredFlow): { top: Node[]; ids: Set<string> } {
  const ids = new Set<string>();
  const build = (nodes: BlueprintNode[]): Node[] =>
    nodes.map((b) => {
      ids.add(b.id);
      const rec = flow.streams[b.id];
      const sequences = b.sequences.map((q) => ({ name: q.name, nodes: build(blueprintSequence(q.streams, q.prefix)) }));
      return { id: b.id, kind: b.kind, state: rec?.state ?? 'init', choice: rec?.choice, compensation: rec?.compensation?.state, sequences };
    });
  return { top: build(blueprintSequence(flow.blueprint.streams)), ids };
}

const within = (n: Node): Node[] => n.sequences.flatMap((q) => q.nodes.flatMap((c) => [c, ...within(c)]));
const active = (s: StreamState): boolean => s === 'running' || s === 'cycling' || s === 'waiting';
/** Succeeded: a compensated river had succeeded before it was undone. */
const succeeded = (s: StreamState): boolean => s === 'success' || s === 'compensated';

/**
 * Whether a flow's records agree with each other, given the order in which the engine writes them
 * (each flow's writes land in order, so any prefix of them must pass). Returns the first
 * disagreement, or undefined. A record lost from the middle of LevelDB's log, which LevelDB skips
 * without a word, shows up here: a flow recorded `success` with a river still `init`, a river that
 * started before the one ahead of it ended, a container's record missing under its children's.
 *
 * It accepts every state a flow passes through, including the ones a redrive leaves: a river that
 * was skipped goes back to `init` while an atomic river after it, which ran as the flow failed,
 * stays `success`.
 */
export function inconsistency(flow: StoredFlow): string | undefined {
  const { top, ids } = tree(flow);
  for (const sid of Object.keys(flow.streams)) if (!ids.has(sid)) return `a record of stream ${sid}, which its drawing does not have`;
  const status = flow.header.status;
  const check = (seq: Node[], parent: Node | undefined): string | undefined => {
    for (let i = 0; i < seq.length; i++) {
      const n = seq[i]!;
      const prev = seq[i - 1];
      if (prev !== undefined && n.state !== 'init') {
        // a stream starts after the one before it ended; one skipped (reset to init by a redrive)
        // may sit before an atomic river that ran while the flow failed
        if (active(prev.state) || (prev.state === 'init' && !(n.kind === 'river' && succeeded(n.state)))) {
          return `stream ${n.id} is ${n.state} while stream ${prev.id} before it is ${prev.state}`;
        }
      }
      if (parent !== undefined && n.state !== 'init' && parent.state === 'init')
        return `stream ${n.id} is ${n.state} inside ${parent.kind} ${parent.id}, which has no record`;
      if (n.kind === 'river') {
        // a compensation begins once the river has succeeded, and ends with it compensated or still succeeded
        if (n.compensation !== undefined && n.state !== 'success' && n.state !== 'compensated')
          return `river ${n.id} is ${n.state} with a compensation ${n.compensation}`;
        if ((n.state === 'compensated') !== (n.compensation === 'success'))
          return `river ${n.id} is ${n.state} with ${n.compensation === undefined ? 'no compensation' : `a compensation ${n.compensation}`}`;
        continue;
      }
      const inner = within(n);
      if (n.state === 'skipped') {
        const started = inner.find((c) => c.state !== 'skipped');
        if (started !== undefined) return `stream ${started.id} is ${started.state} inside ${n.kind} ${n.id}, which was skipped`;
      }
      let sequences = n.sequences;
      if (n.kind === 'fork' && n.choice !== undefined) {
        const chosen = n.sequences.find((q) => q.name === n.choice);
        if (chosen === undefined) return `fork ${n.id} chose ${JSON.stringify(n.choice)}, which is not one of its branches`;
        for (const q of n.sequences) {
          if (q === chosen) continue;
          const ran = q.nodes.flatMap((c) => [c, ...within(c)]).find((c) => c.state !== 'skipped');
          if (ran !== undefined) return `stream ${ran.id} is ${ran.state} in branch ${q.name} that fork ${n.id} did not choose`;
        }
        sequences = [chosen];
      } else if (n.kind === 'fork' && n.state === 'success') {
        return `fork ${n.id} succeeded without a recorded choice`;
      }
      if (n.state === 'success') {
        const bad = sequences.flatMap((q) => q.nodes).find((c) => !succeeded(c.state) && c.state !== 'skipped');
        if (bad !== undefined) return `${n.kind} ${n.id} succeeded while stream ${bad.id} in it is ${bad.state}`;
      }
      for (const q of n.sequences) {
        const found = check(q.nodes, n);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  const found = check(top, undefined);
  if (found !== undefined || !isFinal(status)) return found;
  // an ended flow: nothing still running; nothing not started, but what a fork that never chose holds
  const ended = (seq: Node[], unchosen: boolean): string | undefined => {
    for (const n of seq) {
      if (active(n.state)) return `the flow is ${status} while stream ${n.id} is ${n.state}`;
      if (n.compensation === 'running' || n.compensation === 'retry')
        return `the flow is ${status} while the compensation of river ${n.id} is ${n.compensation}`;
      if (status === 'success' && n.compensation !== undefined) return `the flow is success while river ${n.id} has a compensation`;
      if (status === 'success' && !unchosen && n.state !== 'success') return `the flow is success while stream ${n.id} is ${n.state}`;
      if (n.state === 'init' && !unchosen) return `the flow is ${status} while stream ${n.id} has not started`;
      const noChoice = n.kind === 'fork' && n.choice === undefined;
      for (const q of n.sequences) {
        const found = ended(q.nodes, unchosen || noChoice || (n.kind === 'fork' && q.name !== n.choice));
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return ended(top, false);
}
