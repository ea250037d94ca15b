// The web UI's entry: hash routes (#/flows, #/flows/<id>, #/workers), the token prompt, live events.

import { ApiError, connectEvents, onReachable, onUnauthorized, setToken, token } from './api.js';
import { detailView } from './detail-view.js';
import { h, replace } from './dom.js';
import { errorNode } from './format.js';
import { listView } from './list-view.js';
import type { Route, View } from './view.js';
import { workersView } from './workers-view.js';

const main = document.getElementById('main')!;
let stop: (() => void) | undefined;
/** Whether main shows the error page of fail() (shown again from the route once the server answers). */
let failed = false;
/** Whether main shows the token prompt. */
let asking = false;

/** A part of the hash decoded; a malformed escape (`%E0%A4%A`) is taken as written. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = raw.split('?', 2);
  return {
    path: path
      .split('/')
      .filter((p) => p !== '')
      .map(decode),
    params: new URLSearchParams(q),
  };
}

function viewOf(route: Route): View | undefined {
  const [top] = route.path;
  if (top === 'flows' && route.path.length === 2) return detailView;
  if ((top === 'flows' && route.path.length === 1) || top === undefined) return listView;
  if (top === 'workers' && route.path.length === 1) return workersView;
  return undefined;
}

/** Asks for the admin server's token, then shows the page again. */
function askToken(refused: boolean): void {
  asking = true;
  const input = h('input', { id: 'token', type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  replace(
    main,
    h(
      'form',
      {
        class: 'token',
        onsubmit: (e: Event) => {
          e.preventDefault();
          setToken(input.value.trim());
          connectEvents();
          route();
        },
      },
      h('h1', {}, 'Token needed'),
      h(
        'p',
        {},
        refused
          ? 'The admin server refused that token. Enter the right one.'
          : 'This admin server asks for a token (the one given to engine.serve or vastflow ui).',
      ),
      h('p', { class: 'field' }, h('label', { for: 'token' }, 'Token'), input),
      h('button', { type: 'submit' }, 'Continue'),
    ),
  );
  input.focus();
}

function fail(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    stop?.();
    stop = undefined;
    const refused = token() !== undefined;
    setToken(undefined);
    askToken(refused);
    return;
  }
  // the server is away: the banner says so, the page stays and reads again once it is back
  if (err instanceof ApiError && err.status === 0) return;
  stop?.();
  stop = undefined;
  failed = true;
  replace(main, h('h1', {}, 'Something went wrong'), h('p', { class: 'flow-error', role: 'alert' }, err instanceof ApiError ? errorNode(err) : String(err)));
}

/** Shows the banner while the admin server does not answer (`up` false), removes it once it does. */
function offline(up: boolean): void {
  let banner = document.getElementById('offline');
  if (up) {
    banner?.remove();
    if (failed) route();
    return;
  }
  if (banner !== null) return;
  banner = h(
    'p',
    { id: 'offline', class: 'offline', role: 'alert' },
    'The admin server does not answer: this page may be out of date. It is read again as soon as the server is back.',
  );
  main.before(banner);
}

function route(): void {
  stop?.();
  stop = undefined;
  failed = false;
  asking = false;
  const r = parse(location.hash);
  for (const a of document.querySelectorAll('header nav a')) {
    const on = a.getAttribute('href') === `#/${r.path[0] ?? 'flows'}`;
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const view = viewOf(r);
  if (view === undefined) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/flows' }, 'Go to the flows')));
    return;
  }
  stop = view(main, { route: r, fail });
}

window.addEventListener('hashchange', () => {
  route();
  main.focus({ preventScroll: true });
});
// the skip link must not change the hash, which is the route
document.querySelector('.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
onReachable(offline);
onUnauthorized(() => {
  if (!asking) fail(new ApiError(401, 'E_UNAUTHORIZED', 'the admin server asks for a token'));
});
connectEvents();
route();
