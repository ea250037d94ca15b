// A timeline of the flow's attempts: one row per river, one bar per call of flow(), cycle() or
// compensate(), placed by its start and end.

import { svg } from './dom.js';
import { duration, errorText, time } from './format.js';
import type { FlowSnapshot } from './types.js';

const LEFT = 170;
const WIDTH = 760;
const ROW = 22;
const TOP = 22;

/** The SVG timeline of `flow`, or undefined while no attempt has started. */
export function drawTimeline(flow: FlowSnapshot, now = Date.now()): SVGElement | undefined {
  const rows = flow.streams.filter((s) => s.history.length > 0);
  if (rows.length === 0) return undefined;
  const t0 = Math.min(flow.createdAt, ...rows.map((s) => s.history[0]!.startedAt));
  const running = rows.some((s) => s.history.some((e) => e.endedAt === undefined));
  const ends = rows.flatMap((s) => s.history.map((e) => e.endedAt ?? now));
  const step = axisStep((Math.max(running ? now : flow.updatedAt, ...ends) - t0) / 4);
  const t1 = t0 + 4 * step;
  const scale = (WIDTH - LEFT - 10) / (t1 - t0);
  const x = (t: number): number => LEFT + (t - t0) * scale;
  const height = TOP + rows.length * ROW + 6;
  const root = svg('svg', {
    class: 'timeline',
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: WIDTH,
    height,
    role: 'img',
    'aria-label': `Timeline of the attempts of flow ${flow.id}`,
  });
  for (let i = 0; i <= 4; i++) {
    const t = t0 + step * i;
    root.append(
      svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: TOP - 6, y2: height }),
      svg('text', { class: 'axis', x: x(t), y: 12, 'text-anchor': i === 4 ? 'end' : 'middle' }, `+${duration(step * i)}`),
    );
  }
  rows.forEach((s, r) => {
    const y = TOP + r * ROW;
    root.append(svg('text', { class: 'row', x: LEFT - 8, y: y + 15 }, `${s.id} ${s.name}`.slice(0, 24)));
    for (const e of s.history) {
      const end = e.endedAt ?? now;
      const outcome = e.error !== undefined ? 'err' : e.endedAt === undefined ? 'open' : 'ok';
      const tip = `${s.name} ${e.phase} ${e.attempt}: ${time(e.startedAt)} → ${e.endedAt === undefined ? 'running' : time(e.endedAt)} (${duration(end - e.startedAt)})${e.error ? `, ${errorText(e.error)}` : ''}`;
      root.append(
        svg(
          'rect',
          { class: `bar ${e.phase} ${outcome}`, x: x(e.startedAt), y: y + 4, width: Math.max(2, (end - e.startedAt) * scale), height: ROW - 8, rx: 2 },
          svg('title', {}, tip),
        ),
      );
    }
  });
  return root;
}

/**
 * The axis's step: at least `ms`, a whole number of ms, and 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
 * times a power of ten, so that the five labels are round and differ (a flow of 1 ms had four
 * ticks of "+0 ms" and "+1 ms") and the bars still fill three quarters of the width or more.
 */
function axisStep(ms: number): number {
  if (ms <= 10) return Math.max(1, Math.ceil(ms));
  const power = 10 ** Math.floor(Math.log10(ms));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) if (m * power >= ms) return m * power;
  return 10 * power;
}
