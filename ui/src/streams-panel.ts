// Per stream: state, attempts, polls, times, duration, every call of flow()/cycle()/compensate()
// and every error.

import { bdi, h } from './dom.js';
import { clock, duration, errorText, span, time } from './format.js';
import { shownState } from './graph.js';
import type { FlowError, StreamSnapshot } from './types.js';

const errorItem = (e: FlowError): HTMLElement =>
  h(
    'li',
    {},
    h('code', {}, e.code),
    ' ',
    bdi(e.message),
    e.attempts !== undefined && ` (after ${e.attempts} attempts)`,
    e.cause !== undefined && h('span', { class: 'cause' }, ` cause: ${JSON.stringify(e.cause)}`),
  );

/** The `<details>` of one stream; `open` says whether it starts unfolded. */
export function streamDetails(s: StreamSnapshot, open: boolean): HTMLDetailsElement {
  const state = shownState(s);
  const facts: Array<[string, string]> = [
    ['Kind', s.kind],
    ['State', state],
    ['Attempts', String(s.attempts)],
    ['Polls', String(s.cycles)],
    ['Started', time(s.startedAt)],
    ['Ended', time(s.endedAt)],
    ['Duration', span(s.startedAt, s.endedAt)],
  ];
  if (s.dueAt !== undefined) facts.push(['Next due', time(s.dueAt)]);
  if (s.choice !== undefined) facts.push(['Branch taken', s.choice]);
  if (s.color !== 'default') facts.push(['Color', s.color]);
  // the stream's own error repeats its last attempt's (with the attempt count), unless it is of another kind
  const failure = s.error !== undefined && s.error.code !== s.errors[s.errors.length - 1]?.code ? s.error : undefined;
  return h(
    'details',
    { class: `stream st-${state}`, id: `stream-${s.id}`, 'data-stream': s.id, open },
    h(
      'summary',
      {},
      h('span', { class: `badge st-${state}` }, state),
      ' ',
      h('b', {}, bdi(s.name)),
      ` stream ${s.id}`,
      s.attempts > 0 && ` · ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`,
      s.cycles > 0 && ` · ${s.cycles} poll${s.cycles === 1 ? '' : 's'}`,
      s.startedAt !== undefined && ` · ${span(s.startedAt, s.endedAt)}`,
    ),
    h('dl', { class: 'facts' }, ...facts.filter(([, v]) => v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    s.history.length > 0 &&
      h(
        'table',
        { class: 'history' },
        h('caption', {}, 'Calls of ', bdi(s.name)),
        h('thead', {}, h('tr', {}, ...['Call', '#', 'Started', 'Ended', 'Duration', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...s.history.map((e) =>
            h(
              'tr',
              { class: e.error !== undefined ? 'err' : '' },
              h('td', {}, e.phase === 'cycle' ? 'poll' : e.phase),
              h('td', {}, String(e.attempt)),
              h('td', { title: time(e.startedAt) }, clock(e.startedAt)),
              h('td', { title: time(e.endedAt) }, e.endedAt === undefined ? 'running' : clock(e.endedAt)),
              h('td', {}, e.endedAt === undefined ? '' : duration(e.endedAt - e.startedAt)),
              h('td', { title: e.error === undefined ? undefined : errorText(e.error) }, e.error?.code ?? ''),
            ),
          ),
        ),
      ),
    s.errors.length > 0 && h('div', { class: 'errors' }, h('h4', {}, `Errors of its attempts (${s.errors.length})`), h('ol', {}, ...s.errors.map(errorItem))),
    failure !== undefined && h('div', { class: 'errors' }, h('h4', {}, 'Why it failed'), h('ul', {}, errorItem(failure))),
  );
}
