// The flow list: counts per status (which filter it), search by id or requestId, newest first, paged.

import { api, ApiError, onEvent, onReachable, query } from './api.js';
import { bdi, h, replace } from './dom.js';
import { time } from './format.js';
import { FLOW_STATUSES, type FlowSnapshot, type FlowSummary } from './types.js';
import { coalesce, type View } from './view.js';

const PAGE = 20;
/** Counting stops here: the list API pages, it does not count. */
const COUNT_CAP = 1000;

const flowHref = (id: string): string => `#/flows/${encodeURIComponent(id)}`;
const listHref = (params: Record<string, string | undefined>): string => `#${query('/flows', params)}`;

export const listView: View = (root, { route, fail }) => {
  const status = route.params.get('status') ?? undefined;
  const before = route.params.get('before') ?? undefined;
  // one more than a page is asked for, to know whether an older page exists (the API gives 1000 at most)
  const limit = Math.min(999, Math.max(1, Number(route.params.get('limit') ?? PAGE) || PAGE));

  const note = h('p', { class: 'note', role: 'status' });
  const input = h('input', { id: 'search', type: 'search', name: 'q', placeholder: 'flow id or requestId', autocomplete: 'off', required: true });
  const search = h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const q = input.value.trim();
        if (q === '') return;
        api<FlowSnapshot>(`/flows/${encodeURIComponent(q)}`).then(
          (flow) => (location.hash = flowHref(flow.id)),
          (err) => (err instanceof ApiError && err.status === 404 ? replace(note, 'No flow has the id or requestId "', bdi(q), '".') : fail(err)),
        );
      },
    },
    h('label', { for: 'search' }, 'Find a flow'),
    input,
    h('button', { type: 'submit' }, 'Find'),
  );
  const counts = h('nav', { class: 'counts', 'aria-label': 'Filter by status' });
  const table = h('div', { class: 'table' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  replace(root, h('h1', {}, status === undefined ? 'Flows' : `Flows: ${status}`), search, note, counts, table, pager);

  let alive = true;
  let reads = 0;
  const load = async (): Promise<void> => {
    const n = ++reads;
    const page = await api<FlowSummary[]>(query('/flows', { status, limit: limit + 1, before }));
    const tally = await Promise.all(FLOW_STATUSES.map((s) => api<FlowSummary[]>(query('/flows', { status: s, limit: COUNT_CAP })).then((l) => l.length)));
    if (!alive || n !== reads) return; // a later read is on its way
    const total = tally.reduce((a, n) => a + n, 0);
    const shown = (n: number): string => (n >= COUNT_CAP ? `${COUNT_CAP}+` : String(n));
    const filter = (s: string | undefined, label: string, n: string) =>
      h(
        'a',
        { href: listHref({ status: s }), class: `count st-${s ?? 'all'}`, 'aria-current': s === status ? 'page' : undefined, 'data-status': s ?? 'all' },
        label,
        ' ',
        h('b', {}, n),
      );
    replace(counts, filter(undefined, 'all', shown(total)), ...FLOW_STATUSES.map((s, i) => filter(s, s, shown(tally[i]!))));
    const rows = page.slice(0, limit);
    replace(
      table,
      rows.length === 0
        ? h('p', { class: 'empty' }, status === undefined ? 'No flows yet.' : `No ${status} flows.`)
        : h(
            'table',
            { class: 'flows' },
            h('caption', { class: 'sr' }, 'Flows, newest first'),
            h('thead', {}, h('tr', {}, ...['Flow id', 'requestId', 'Status', 'Created', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              ...rows.map((f) =>
                h(
                  'tr',
                  { 'data-flow': f.id },
                  h('td', {}, h('a', { href: flowHref(f.id) }, f.id)),
                  h('td', { class: 'mono' }, bdi(f.requestId)),
                  h('td', {}, h('span', { class: `badge st-${f.status}` }, f.status)),
                  h('td', {}, time(f.createdAt)),
                  h('td', {}, time(f.updatedAt)),
                ),
              ),
            ),
          ),
    );
    const more = page.length > limit;
    replace(
      pager,
      before !== undefined && h('a', { href: listHref({ status }), rel: 'first' }, '« Newest'),
      more && h('a', { href: listHref({ status, before: rows[rows.length - 1]!.id, limit: route.params.get('limit') ?? undefined }), rel: 'next' }, 'Older »'),
    );
  };
  // a busy engine ends many flows a second: the list is read again at most about once a second
  const refresh = coalesce(() => void load().catch(fail), 700);
  void load().catch(fail);
  const off = onEvent((e) => {
    if (e.name.startsWith('flow:')) refresh();
  });
  // the events of a time the server was away are lost: the list is read again when it is back
  const offReach = onReachable((up) => up && refresh());
  return () => {
    alive = false;
    refresh.cancel();
    off();
    offReach();
  };
};
