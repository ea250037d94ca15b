// The admin API client: every call goes to this page's own origin, with the token once one is known.

const TOKEN_KEY = 'vastflow.token';
/** What a proxy answers while the server behind it is away (the admin server itself never does). */
const AWAY = new Set([502, 503, 504]);

/** An error answer of the admin API (`{ error: { code, message } }`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The token this tab was given, if any. */
export function token(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Keeps `value` as the token for this tab (none: forgets it). */
export function setToken(value: string | undefined): void {
  if (value === undefined || value === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

/** Calls `path` (below /api) and returns its JSON; rejects with an ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token();
  if (t !== undefined) headers['authorization'] = `Bearer ${t}`;
  const req: RequestInit = { method: init.method ?? 'GET', headers };
  if (init.body !== undefined || req.method === 'POST') {
    // the server takes POST bodies only as JSON (which other sites' forms cannot send)
    headers['content-type'] = 'application/json';
    req.body = JSON.stringify(init.body ?? {});
  }
  let res: Response;
  try {
    res = await fetch(`/api${path}`, req);
  } catch (err) {
    reach(false);
    throw new ApiError(0, 'E_NETWORK', `the admin server cannot be reached (${String(err)})`);
  }
  // a proxy in front of a server that is away answers for it
  if (AWAY.has(res.status)) {
    reach(false);
    throw new ApiError(0, 'E_NETWORK', `the admin server cannot be reached (HTTP ${res.status} from the proxy in front of it)`);
  }
  // an answer: live again, unless the event stream is still reconnecting (its open says it then)
  if (source?.readyState !== EventSource.CONNECTING) reach(true);
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: reported below when the status is an error
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text || res.statusText));
  }
  return body as T;
}

/** `/api/…?k=v` with the empty values left out. */
export function query(path: string, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** An engine event: its name and payload. */
export interface EngineEvent {
  name: string;
  payload: { flowId?: string; [key: string]: unknown };
}

const EVENT_NAMES = ['flow:start', 'flow:waiting', 'flow:end', 'flow:message', 'river:start', 'river:retry', 'river:cycle', 'river:end', 'river:compensate'];

type EventListener = (e: EngineEvent) => void;
const listeners = new Set<EventListener>();
let source: EventSource | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
/** How long after the event stream closed for good (an answer other than 200) it is opened again. */
const REOPEN_MS = 3000;

type AuthListener = () => void;
const authListeners = new Set<AuthListener>();

/**
 * Calls `listener` when the event stream was refused for want of the right token (the server came
 * back asking for another): the page must ask for it, though it may have nothing else to read.
 */
export function onUnauthorized(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

type ReachListener = (up: boolean) => void;
const reachListeners = new Set<ReachListener>();
let reachable = true;

function reach(up: boolean): void {
  if (up === reachable) return;
  reachable = up;
  for (const l of reachListeners) l(up);
}

/**
 * Calls `listener` each time the admin server stops answering (false) and each time it answers
 * again and its event stream is open (true): the events in between were missed, so a page reads
 * what it shows again. Until the returned function is called.
 */
export function onReachable(listener: ReachListener): () => void {
  reachListeners.add(listener);
  return () => reachListeners.delete(listener);
}

function dispatch(name: string, data: string): void {
  let payload: EngineEvent['payload'];
  try {
    payload = JSON.parse(data) as EngineEvent['payload'];
  } catch {
    return;
  }
  for (const l of listeners) l({ name, payload });
}

/** Opens the event stream of /api/events (once), after a token change too. */
export function connectEvents(): void {
  source?.close();
  clearTimeout(retry);
  const t = token();
  const es = new EventSource(t === undefined ? '/api/events' : `/api/events?token=${encodeURIComponent(t)}`);
  source = es;
  for (const name of EVENT_NAMES) es.addEventListener(name, (e) => dispatch(name, (e as MessageEvent<string>).data));
  es.addEventListener('open', () => reach(true));
  es.addEventListener('error', () => {
    if (source !== es) return;
    // a lost connection: the browser tries again by itself; an error answer (a 401) closes the
    // stream, and it is opened again a little later (the server did answer: it is reachable)
    if (es.readyState === EventSource.CONNECTING) return reach(false);
    // which answer it was, EventSource does not say: a plain call tells (and, answered, that the
    // server is back); a 401 waits for a token (connectEvents runs again once one is given)
    api('/workers').then(
      () => void (retry = setTimeout(connectEvents, REOPEN_MS)),
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) for (const l of authListeners) l();
        else retry = setTimeout(connectEvents, REOPEN_MS);
      },
    );
  });
}

/** Calls `listener` with every engine event until the returned function is called. */
export function onEvent(listener: EventListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
