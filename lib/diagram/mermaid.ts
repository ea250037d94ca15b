import type { Blueprint, BlueprintStream } from '../model/blueprint.js';
import { blueprintSequence, StreamAddress, type BlueprintNode } from '../model/stream-tree.js';
import type { FlowSnapshot, StreamSnapshot } from '../engine/snapshot.js';

const STYLES = [
  'classDef success fill:#d3f9d8,stroke:#2b8a3e,color:#1b4d26',
  'classDef fail fill:#ffe3e3,stroke:#c92a2a,color:#7d1a1a',
  'classDef running fill:#fff3bf,stroke:#e67700,color:#663c00',
  'classDef cycling fill:#fff3bf,stroke:#e67700,color:#663c00,stroke-dasharray:4 2',
  'classDef stopped fill:#f8f0fc,stroke:#c92a2a,color:#5c2d2d,stroke-dasharray:6 3',
  'classDef skipped fill:#f1f3f5,stroke:#adb5bd,color:#868e96,stroke-dasharray:2 2',
  'classDef init fill:#ffffff,stroke:#495057,color:#212529',
  'classDef waiting fill:#e7f5ff,stroke:#1971c2,color:#0b3d6b,stroke-dasharray:4 2',
  'classDef compensated fill:#e7f5ff,stroke:#1971c2,color:#1c3d5a,stroke-dasharray:3 3',
];

/**
 * Text safe inside a quoted Mermaid label: quotes and angle brackets as entities, and each line
 * break (CRLF, CR, LF), tab or other control character as a space, since a raw line break ends
 * the statement and leaves the rest of the name to be read as Mermaid syntax.
 */
const esc = (text: string): string =>
  text
    .replace(/\r\n|[\u0000-\u001f\u007f]/g, ' ')
    .replace(/"/g, '#quot;')
    .replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));
const nodeId = (id: string): string => `s${id.replace(/\./g, '_')}`;
/** A stream the flow stopped (E_CANCELLED) is drawn apart from one that failed by itself. */
const isStopped = (st: StreamSnapshot): boolean => st.state === 'fail' && st.error?.code === 'E_CANCELLED';
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

class Diagram {
  readonly lines: string[] = [];
  readonly #states: Map<string, StreamSnapshot> | undefined;

  constructor(states: Map<string, StreamSnapshot> | undefined) {
    this.#states = states;
  }

  /** Draws a sequence after `from`; returns the ids its last stream leaves from. */
  sequence(streams: readonly BlueprintStream[], prefix: string, from: string[], edgeLabel?: string): string[] {
    let tails = from;
    blueprintSequence(streams, prefix).forEach((node, i) => {
      tails = this.stream(node, tails, i === 0 ? edgeLabel : undefined);
    });
    return tails;
  }

  stream(node: BlueprintNode, from: string[], edgeLabel?: string): string[] {
    const { id, stream: s } = node;
    const own = 'basin' in s ? s.basin.color : s.color; // labels show a stream's own color, not an inherited one
    const n = nodeId(id);
    const link = (to: string): void => {
      for (const f of from) this.lines.push(edgeLabel === undefined ? `  ${f} --> ${to}` : `  ${f} -- "${esc(edgeLabel)}" --> ${to}`);
    };
    if (node.kind === 'river') {
      this.lines.push(`  ${n}["${this.#label(id, node.name, own)}"]`);
      this.#style(n, id);
      link(n);
      return [n];
    }
    if (node.kind === 'dam') {
      // a Dam: a trapezoid, holding its branch back
      const d = s as { dam: string | null; timeout?: string | number; delay?: string | number };
      const what = d.dam === null ? `sleep ${String(d.delay)}` : `dam ${d.dam}${d.timeout !== undefined ? ` · timeout ${String(d.timeout)}` : ''}`;
      this.lines.push(`  ${n}[/"${this.#label(id, what, own)}"\\]`);
      this.#style(n, id);
      link(n);
      return [n];
    }
    if (node.kind === 'basin') {
      const basin = node.sequences[0]!;
      this.lines.push(`  subgraph ${n}["${this.#label(id, `basin ${own ?? ''}`.trim(), undefined)}"]`, '    direction LR');
      const inner = new Diagram(this.#states);
      const tails = inner.sequence(basin.streams, basin.prefix, []);
      this.lines.push(...inner.lines.map((l) => `  ${l}`), '  end');
      this.#style(n, id);
      link(nodeId(StreamAddress.at(basin.prefix, 0)));
      return tails;
    }
    // a parallel river and a fork: a node that splits, its branches, and a join
    const shape = node.kind === 'parallel' ? `{{"${this.#label(id, 'parallel', own)}"}}` : `{"${this.#label(id, node.name, own)}"}`;
    this.lines.push(`  ${n}${shape}`, `  ${n}_join(( ))`);
    this.#style(n, id);
    link(n);
    const tails = node.sequences.flatMap((q) => this.sequence(q.streams, q.prefix, [n], node.kind === 'fork' ? q.name : undefined));
    for (const t of tails) this.lines.push(`  ${t} --> ${n}_join`);
    return [`${n}_join`];
  }

  #label(id: string, name: string, color: string | undefined): string {
    const parts = [esc(name)];
    if (color !== undefined && color !== 'default') parts[0] += ` · ${esc(color)}`;
    const st = this.#states?.get(id);
    if (st !== undefined) {
      const facts: string[] = [isStopped(st) ? 'stopped' : st.state];
      if (st.kind === 'river' && st.attempts > 0) facts.push(plural(st.attempts, 'attempt'));
      if (st.cycles > 0) facts.push(plural(st.cycles, 'poll'));
      if (st.choice !== undefined) facts.push(`chose ${esc(st.choice)}`);
      if (st.compensation !== undefined && st.compensation.state !== 'success') facts.push(`compensation ${st.compensation.state}`);
      parts.push(facts.join(' · '));
    }
    return parts.join('<br/>');
  }

  #style(n: string, id: string): void {
    const st = this.#states?.get(id);
    if (st !== undefined) this.lines.push(`  class ${n} ${isStopped(st) ? 'stopped' : st.state}`);
  }
}

/** A Mermaid flowchart of a blueprint; with `states`, each stream styled by its state. */
export function blueprintToMermaid(bp: Blueprint, states?: Map<string, StreamSnapshot>): string {
  const d = new Diagram(states);
  d.lines.push('flowchart LR', '  start(["start"])');
  const tails = d.sequence(bp.streams, '', ['start']);
  d.lines.push(`  atlantic(["${esc(bp.atlantic ?? 'Atlantic')}"])`);
  for (const t of tails) d.lines.push(`  ${t} --> atlantic`);
  if (states !== undefined) d.lines.push(...STYLES.map((s) => `  ${s}`));
  return `${d.lines.join('\n')}\n`;
}

/**
 * A Mermaid flowchart of a flow from `engine.get(id)`: each stream styled by its state
 * (succeeded, failed, running or cycling, skipped, not started, compensated), with attempt and
 * poll counts, and a compensation that has not succeeded.
 * @example
 * console.log(toMermaid((await engine.get(run.id))!));
 */
export function toMermaid(snapshot: FlowSnapshot): string {
  return blueprintToMermaid(snapshot.blueprint, new Map(snapshot.streams.map((s) => [s.id, s])));
}
