// The drawing laid out top to bottom. A flow is series-parallel: sequences of streams, where a
// parallel river or a fork puts its branches side by side and a basin boxes its sequence. So each
// part's size follows from its children's, and one pass down places everything exactly: no
// general graph-layout library is needed. Stream ids follow lib/model/stream-tree.ts: stream `i` of
// branch `b` of container `P` is `P.b.i`, stream `i` of basin `B` is `B.i`.

import type { BlueprintStream } from './types.js';

/** One stream of the drawing, with what is inside it. */
export type Item = { t: 'leaf'; id: string } | { t: 'split' | 'box'; id: string; branches: Branch[] };
/** A branch of a parallel river or a fork (`label`: the fork's branch name), or a basin's sequence. */
export interface Branch {
  label?: string;
  items: Item[];
}

/** A placed stream: its box, and for a container where its branch labels go. */
export interface Placed {
  id: string;
  t: Item['t'];
  x: number;
  y: number;
  w: number;
  h: number;
  /** A fork's branch names: where each goes, and the width it has before the next branch or the frame's edge. */
  labels: Array<{ text: string; x: number; y: number; width: number }>;
}
export interface Edge {
  d: string;
  arrow: boolean;
}
export interface Layout {
  width: number;
  height: number;
  nodes: Placed[];
  edges: Edge[];
  /** The start and end marks. */
  start: { x: number; y: number };
  end: { x: number; y: number };
}

export const NODE_W = 172;
export const NODE_H = 46;
const GAP_Y = 30;
const GAP_X = 22;
const PAD = 12;
const HEAD = 24;
const FAN = 18;
const LABEL = 16;
const MARGIN = 16;
const EMPTY_W = 36;

/** The items of a blueprint sequence whose ids begin with `prefix`. */
export function itemsOf(streams: readonly BlueprintStream[], prefix = ''): Item[] {
  return streams.map((s, i) => {
    const id = `${prefix}${i}`;
    if (Array.isArray(s.parallel)) return { t: 'split', id, branches: s.parallel.map((b, bi) => ({ items: itemsOf(b, `${id}.${bi}.`) })) };
    if (typeof s.fork === 'string' && s.branches !== undefined)
      return { t: 'split', id, branches: Object.entries(s.branches).map(([label, b], bi) => ({ label, items: itemsOf(b, `${id}.${bi}.`) })) };
    if (s.basin !== undefined) return { t: 'box', id, branches: [{ items: itemsOf(s.basin.streams, `${id}.`) }] };
    return { t: 'leaf', id }; // a river, and any stream kind this page does not know (drawn as one box)
  });
}

interface Size {
  w: number;
  h: number;
}

/** Lays out a flow's items. */
export function layout(items: Item[]): Layout {
  const sizes = new Map<Item, Size>();
  const seqSize = (seq: Item[]): Size => {
    if (seq.length === 0) return { w: EMPTY_W, h: 0 };
    const s = seq.map(size);
    return { w: Math.max(...s.map((x) => x.w)), h: s.reduce((a, x) => a + x.h, 0) + GAP_Y * (seq.length - 1) };
  };
  const labelled = (it: Item): boolean => it.t === 'split' && it.branches.some((b) => b.label !== undefined);
  const size = (it: Item): Size => {
    let s = sizes.get(it);
    if (s !== undefined) return s;
    if (it.t === 'leaf') s = { w: NODE_W, h: NODE_H };
    else if (it.t === 'box') {
      const inner = seqSize(it.branches[0]?.items ?? []);
      s = { w: Math.max(inner.w, NODE_W) + 2 * PAD, h: HEAD + inner.h + 2 * PAD };
    } else {
      const bs = it.branches.map((b) => seqSize(b.items));
      const w = bs.reduce((a, x) => a + x.w, 0) + GAP_X * Math.max(0, bs.length - 1) + 2 * PAD;
      const h = HEAD + 2 * FAN + (labelled(it) ? LABEL : 0) + Math.max(0, ...bs.map((x) => x.h)) + PAD;
      s = { w: Math.max(w, NODE_W + 2 * PAD), h };
    }
    sizes.set(it, s);
    return s;
  };

  const nodes: Placed[] = [];
  const edges: Edge[] = [];
  const curve = (x1: number, y1: number, x2: number, y2: number, arrow: boolean): void => {
    const m = (y1 + y2) / 2;
    edges.push({ d: x1 === x2 ? `M${x1} ${y1}V${y2}` : `M${x1} ${y1}C${x1} ${m} ${x2} ${m} ${x2} ${y2}`, arrow });
  };

  /** From (x1, y1) straight down to `turn`, then curving to (x2, y2). */
  const join = (x1: number, y1: number, turn: number, x2: number, y2: number): void => {
    if (x1 === x2) return curve(x1, y1, x2, y2, false);
    const m = (turn + y2) / 2;
    edges.push({ d: `M${x1} ${y1}${turn > y1 ? `V${turn}` : ''}C${x1} ${m} ${x2} ${m} ${x2} ${y2}`, arrow: false });
  };
  const placeSeq = (seq: Item[], cx: number, top: number): void => {
    let y = top;
    seq.forEach((it, i) => {
      if (i > 0) curve(cx, y - GAP_Y, cx, y, true);
      place(it, cx, y);
      y += size(it).h + GAP_Y;
    });
  };
  const place = (it: Item, cx: number, top: number): void => {
    const { w, h } = size(it);
    const p: Placed = { id: it.id, t: it.t, x: cx - w / 2, y: top, w, h, labels: [] };
    nodes.push(p);
    if (it.t === 'leaf') return;
    if (it.t === 'box') return placeSeq(it.branches[0]?.items ?? [], cx, top + HEAD + PAD);
    const fanOut = top + HEAD;
    const bTop = fanOut + FAN + (labelled(it) ? LABEL : 0);
    const bs = it.branches.map((b) => seqSize(b.items));
    const fanIn = bTop + Math.max(0, ...bs.map((x) => x.h)) + FAN;
    const total = bs.reduce((a, x) => a + x.w, 0) + GAP_X * Math.max(0, bs.length - 1);
    let x = cx - total / 2;
    it.branches.forEach((b, i) => {
      const bw = bs[i]!;
      const bcx = x + bw.w / 2;
      const room = bw.w / 2 - 5 + (i === it.branches.length - 1 ? PAD : GAP_X) - 4;
      if (b.label !== undefined) p.labels.push({ text: b.label, x: bcx + 5, y: bTop - 5, width: room });
      curve(cx, fanOut, bcx, bTop, b.items.length > 0);
      placeSeq(b.items, bcx, bTop);
      // a branch shorter than the tallest goes down its own column first, and turns to the join
      // below every branch's content: a curve from its end would cross the other branches' boxes
      join(bcx, bTop + bw.h, fanIn - FAN, cx, fanIn);
      x += bw.w + GAP_X;
    });
  };

  const root = seqSize(items);
  const width = Math.max(root.w, NODE_W) + 2 * MARGIN;
  const cx = width / 2;
  const start = { x: cx, y: MARGIN };
  const top = MARGIN + GAP_Y;
  if (items.length > 0) {
    curve(cx, start.y, cx, top, true);
    placeSeq(items, cx, top);
  }
  const bottom = items.length > 0 ? top + root.h : start.y;
  const end = { x: cx, y: bottom + GAP_Y };
  curve(cx, bottom, cx, end.y - 6, true);
  return { width, height: end.y + MARGIN, nodes, edges, start, end };
}
