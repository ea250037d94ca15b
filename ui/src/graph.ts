// The flow's drawing as SVG: the layout of layout.ts, each stream coloured by its state.

import { h, svg } from './dom.js';
import { itemsOf, layout } from './layout.js';
import type { FlowSnapshot, StreamSnapshot } from './types.js';

/** A stream's state as drawn: a river the flow stopped (E_CANCELLED) is `stopped`, not `fail`. */
export function shownState(s: StreamSnapshot): string {
  return s.state === 'fail' && s.error?.code === 'E_CANCELLED' ? 'stopped' : s.state;
}

/** The states in the legend, in order. */
export const STATES = ['init', 'running', 'cycling', 'waiting', 'success', 'fail', 'stopped', 'skipped', 'compensated'];

const clip = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a river's box says under its name. */
function detail(s: StreamSnapshot): string {
  const parts = [shownState(s)];
  if (s.attempts > 1) parts.push(plural(s.attempts, 'attempt'));
  if (s.cycles > 0) parts.push(plural(s.cycles, 'poll'));
  return parts.join(' · ');
}

/** The SVG of `flow`'s drawing; `onSelect` is called with a stream's id when it is clicked. */
export function drawGraph(flow: FlowSnapshot, onSelect: (id: string) => void): SVGElement {
  const byId = new Map(flow.streams.map((s) => [s.id, s]));
  const l = layout(itemsOf(flow.blueprint.streams));
  const root = svg('svg', {
    class: 'graph',
    width: l.width,
    height: l.height,
    viewBox: `0 0 ${l.width} ${l.height}`,
    role: 'group',
    'aria-label': `Drawing of flow ${flow.id}`,
  });
  root.append(
    svg(
      'defs',
      {},
      svg(
        'marker',
        { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        svg('path', { d: 'M0 0L8 4L0 8z' }),
      ),
    ),
  );
  const group = (p: (typeof l.nodes)[number], children: SVGElement[]): SVGElement => {
    const s = byId.get(p.id);
    const state = s === undefined ? 'init' : shownState(s);
    const name = s?.name ?? p.id;
    const label = `${name} (stream ${p.id}): ${s === undefined ? 'init' : detail(s)}${s?.choice !== undefined ? `, branch ${s.choice}` : ''}`;
    const g = svg(
      'g',
      {
        class: `${p.t === 'leaf' ? 'node' : 'frame'} st-${state}`,
        'data-stream': p.id,
        'data-state': state,
        tabindex: 0,
        role: 'button',
        'aria-label': label,
        onclick: () => onSelect(p.id),
        onkeydown: (e: Event) => {
          const k = (e as KeyboardEvent).key;
          if (k === 'Enter' || k === ' ') {
            e.preventDefault();
            onSelect(p.id);
          }
        },
      },
      svg('title', {}, label),
      ...children,
    );
    return g;
  };
  // in the drawing's order (a container before what it holds, top to bottom, branch by branch):
  // the order Tab follows, and each frame is painted under what it holds
  for (const p of l.nodes) {
    const s = byId.get(p.id);
    const name = s?.name ?? p.id;
    if (p.t === 'leaf') {
      root.append(
        group(p, [
          svg('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: 6 }),
          svg('text', { x: p.x + p.w / 2, y: p.y + 19, class: 'name' }, clip(name, 24)),
          svg('text', { x: p.x + p.w / 2, y: p.y + 36, class: 'sub' }, s === undefined ? 'init' : clip(detail(s), 30)),
        ]),
      );
      continue;
    }
    root.append(
      group(p, [
        svg('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: 8 }),
        svg('text', { x: p.x + 8, y: p.y + 16, class: 'head' }, clip(`${name} · ${s === undefined ? 'init' : shownState(s)}`, Math.floor(p.w / 7))),
        // 11 px text: about 6.5 px a character
        ...p.labels.map((b) => svg('text', { x: b.x, y: b.y, class: 'branch' }, clip(b.text, Math.max(3, Math.min(18, Math.floor(b.width / 6.5)))))),
      ]),
    );
  }
  // the edges over the frames (they run inside them) and touching the boxes only at their ends
  const edges = svg('g', { class: 'edges', 'aria-hidden': 'true' });
  for (const e of l.edges) edges.append(svg('path', { d: e.d, 'marker-end': e.arrow ? 'url(#arrow)' : undefined }));
  root.append(edges);
  root.append(svg('circle', { class: 'mark', cx: l.start.x, cy: l.start.y, r: 6 }), svg('circle', { class: 'mark end', cx: l.end.x, cy: l.end.y, r: 6 }));
  return root;
}

/** The legend of the state colours. */
export function legend(): HTMLElement {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Colours of the states' },
    ...STATES.map((st) =>
      h(
        'li',
        {},
        svg('svg', { width: 16, height: 16, 'aria-hidden': 'true', class: `st-${st}` }, svg('rect', { x: 1, y: 1, width: 14, height: 14, rx: 3 })),
        st,
      ),
    ),
  );
}
