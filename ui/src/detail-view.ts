// The flow detail: the drawing coloured by state, the streams, a timeline of the attempts, the
// headwaters and blueprint, and the actions. Redrawn when an event of the flow arrives.

import { askCancel, askRedrive, askSend, type ActionHost } from './actions.js';
import { api, ApiError, onEvent, onReachable } from './api.js';
import { bdi, h, replace } from './dom.js';
import { errorNode, json, span, time } from './format.js';
import { drawGraph, legend } from './graph.js';
import { streamDetails } from './streams-panel.js';
import { drawTimeline } from './timeline.js';
import type { FlowSnapshot } from './types.js';
import { coalesce, type View } from './view.js';

const ENDED = new Set(['success', 'fail', 'cancelled']);
const POLL_MS = 3000;

export const detailView: View = (root, { route, fail }) => {
  const ref = route.path[1] ?? '';
  const content = h('div', { class: 'detail' });
  const note = h('p', { class: 'note', role: 'status', 'aria-live': 'polite' });
  replace(root, h('p', { class: 'crumbs' }, h('a', { href: '#/flows' }, '« Flows')), note, content);

  /** The streams unfolded by the user, kept across redraws. */
  const unfolded = new Set<string>();
  /** The JSON panels (blueprint, Mermaid) unfolded by the user, by id. */
  const shown = new Set<string>();
  let flow: FlowSnapshot | undefined;
  let alive = true;
  let reads = 0;

  const host: ActionHost = {
    root,
    report: (text, ok) => {
      note.textContent = text;
      note.className = ok ? 'note ok' : 'note bad';
    },
    done: () => void load(),
  };

  const select = (id: string): void => {
    unfolded.add(id);
    const d = content.querySelector<HTMLDetailsElement>(`details[data-stream="${CSS.escape(id)}"]`);
    if (d === null) return;
    d.open = true;
    d.scrollIntoView({ block: 'nearest' });
    d.querySelector('summary')?.focus();
  };

  /** A folded JSON panel that stays unfolded across redraws once the user unfolded it. */
  const panel = (id: string, title: string, body: HTMLElement): HTMLDetailsElement => {
    const d = h('details', { class: 'json', id, open: shown.has(id) }, h('summary', { id: `${id}-summary` }, title), body);
    d.addEventListener('toggle', () => (d.open ? shown.add(id) : shown.delete(id)));
    return d;
  };

  const render = (f: FlowSnapshot): void => {
    // a redraw replaces the focused element: focus its successor
    const active = document.activeElement;
    const focusKey =
      active instanceof Element && content.contains(active) ? (active.getAttribute('data-stream') ?? active.parentElement?.getAttribute('data-stream')) : null;
    const tag = active?.tagName;
    // a button or a panel's summary keeps the focus by its id
    const focusId = active instanceof HTMLElement && content.contains(active) && active.id !== '' ? active.id : undefined;
    const ended = ENDED.has(f.status);
    // a flow whose compensations ran cannot be redriven (the server answers E_CONFLICT)
    const compensated = f.streams.some((s) => s.compensation !== undefined);
    const timeline = drawTimeline(f);
    replace(
      content,
      h('h1', {}, 'Flow ', h('span', { class: 'mono' }, f.id), ' ', h('span', { class: `badge st-${f.status}`, id: 'flow-status' }, f.status)),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'requestId'),
        h('dd', { class: 'mono' }, bdi(f.requestId)),
        h('dt', {}, 'Created'),
        h('dd', {}, time(f.createdAt)),
        h('dt', {}, 'Updated'),
        h('dd', {}, time(f.updatedAt)),
        h('dt', {}, ended ? 'Took' : 'Running for'),
        h('dd', {}, span(f.createdAt, ended ? f.updatedAt : undefined)),
        f.atlantic !== undefined && h('dt', {}, 'Atlantic'),
        f.atlantic !== undefined && h('dd', {}, `${f.atlantic.hook}: `, f.atlantic.error ? errorNode(f.atlantic.error) : f.atlantic.done ? 'done' : 'to run'),
        f.pendingCancel !== undefined && h('dt', {}, 'Cancel asked'),
        f.pendingCancel !== undefined && h('dd', {}, bdi(f.pendingCancel.reason)),
      ),
      f.error !== undefined &&
        h(
          'div',
          { class: 'flow-error', role: 'alert' },
          h('b', {}, 'Error '),
          errorNode(f.error),
          ...(f.error.compensation ?? []).map((c) => h('div', {}, 'compensation of ', bdi(c.river), ' failed: ', errorNode(c))),
        ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', id: 'cancel', disabled: ended, onclick: () => askCancel(host, f.id) }, 'Cancel…'),
        h(
          'button',
          {
            type: 'button',
            id: 'redrive',
            disabled: f.status !== 'fail' || compensated,
            title: compensated ? 'Its compensations ran: start a new flow instead' : undefined,
            onclick: () => askRedrive(host, f.id),
          },
          'Redrive…',
        ),
        h('button', { type: 'button', id: 'send', disabled: ended, onclick: () => askSend(host, f.id) }, 'Send message…'),
      ),
      h(
        'div',
        { class: 'panes' },
        h(
          'section',
          { 'aria-labelledby': 'h-drawing' },
          h('h2', { id: 'h-drawing' }, 'Drawing'),
          h('div', { class: 'scroll' }, legend(), drawGraph(f, select)),
        ),
        h(
          'section',
          { 'aria-labelledby': 'h-streams' },
          h('h2', { id: 'h-streams' }, 'Streams'),
          ...f.streams.map((s) => streamDetails(s, unfolded.has(s.id))),
        ),
      ),
      timeline !== undefined &&
        h('section', { 'aria-labelledby': 'h-timeline' }, h('h2', { id: 'h-timeline' }, 'Timeline'), h('div', { class: 'scroll' }, timeline)),
      h('section', { 'aria-labelledby': 'h-hw' }, h('h2', { id: 'h-hw' }, 'Headwaters'), h('pre', { class: 'json', id: 'headwaters' }, json(f.headwaters))),
      panel('blueprint-panel', 'Blueprint', h('pre', { class: 'json', id: 'blueprint' }, json(f.blueprint))),
      f.mermaid !== undefined && panel('mermaid-panel', 'Mermaid', h('pre', { class: 'json' }, f.mermaid)),
    );
    for (const d of content.querySelectorAll<HTMLDetailsElement>('details.stream'))
      d.addEventListener('toggle', () => (d.open ? unfolded.add(d.dataset['stream']!) : unfolded.delete(d.dataset['stream']!)));
    if (focusId !== undefined) document.getElementById(focusId)?.focus();
    else if (focusKey !== null && focusKey !== undefined) {
      const el = content.querySelector<HTMLElement>(
        tag === 'SUMMARY' ? `details[data-stream="${CSS.escape(focusKey)}"] summary` : `g[data-stream="${CSS.escape(focusKey)}"]`,
      );
      el?.focus();
    }
  };

  const load = async (): Promise<void> => {
    try {
      const n = ++reads;
      const f = await api<FlowSnapshot>(`/flows/${encodeURIComponent(ref)}`);
      if (!alive || n !== reads) return; // a later read is on its way
      flow = f;
      render(f);
    } catch (err) {
      if (!alive) return;
      if (err instanceof ApiError && err.status === 404)
        replace(content, h('h1', {}, 'No such flow'), h('p', {}, 'No flow has the id or requestId "', bdi(ref), '".'));
      else fail(err);
    }
  };
  const refresh = coalesce(() => void load(), 120);
  void load();
  // over a store opened directly (vastflow ui on PostgreSQL) only a flow's status changes arrive as
  // events, so an unfinished flow is also read again every few seconds
  const timer = setInterval(() => {
    if (flow !== undefined && !ENDED.has(flow.status)) refresh();
  }, POLL_MS);
  const off = onEvent((e) => {
    if (flow !== undefined && e.payload.flowId === flow.id) refresh();
  });
  const offReach = onReachable((up) => up && refresh());
  return () => {
    alive = false;
    refresh.cancel();
    clearInterval(timer);
    off();
    offReach();
  };
};
