import type { FlowError } from '../errors/flow-error.js';
import type { FlowHeader, HistoryEntry, StreamRecord, StreamState } from '../store/records.js';

/**
 * The state machine of flows and streams, as pure functions: a record and an event in, the new
 * record out (the record given is never changed, so the engine hands the new one to the write
 * queue as it is). Every status and state change the engine makes goes through {@link nextStream}
 * and {@link nextFlow}; an event that does not fit the record's state is a bug in the engine and
 * throws {@link IllegalTransition}.
 */

/** At most this many entries of a river's history are kept: its first half and the latest ones. */
export const HISTORY_LIMIT = 100;

/** What happens to a stream (a river, or a parallel river, basin or fork). */
export type StreamEvent =
  /** A river begins: the time it started. */
  | { type: 'begin'; at: number }
  /** An attempt of `flow()` starts. */
  | { type: 'attempt'; attempt: number }
  /** The attempt failed with `error`; `retryAt` when it will be tried again. */
  | { type: 'attemptFailed'; error: FlowError; retryAt?: number }
  /** `flow()` succeeded and the polls begin; the first is due at `dueAt`. */
  | { type: 'cycle'; dueAt: number }
  /** Poll `poll` ended: with `error` when it threw, `nextAt` when another poll follows. */
  | { type: 'polled'; poll: number; error?: FlowError; nextAt?: number }
  /** The river ended: succeeded, or failed with `error`; `completion` numbers a compensable river's success. */
  | { type: 'end'; error?: FlowError; at: number; completion?: number }
  /** The flow stopped the river (it failed or was cancelled meanwhile). */
  | { type: 'stop'; error: FlowError; at: number }
  /** A Dam begins to hold its branch; `dueAt` when its timeout or delay ends. */
  | { type: 'hold'; at: number; dueAt?: number }
  /** The stream will not run: the flow stopped before it, or its fork chose another branch. */
  | { type: 'skip' }
  /** A call of `flow()`, `cycle()` or `compensate()` began (its history entry). */
  | { type: 'call'; attempt: number; phase: HistoryEntry['phase']; at: number }
  /** The latest call ended, with its error if it failed. */
  | { type: 'called'; at: number; error?: FlowError }
  /** A container (parallel river, basin, fork) runs. */
  | { type: 'open'; at: number }
  /** A container ended: every stream in it succeeded (`ok`) or one failed (`error` when it failed by itself). */
  | { type: 'close'; ok: boolean; at: number; error?: FlowError }
  /** A fork chose its branch. */
  | { type: 'choose'; choice: string }
  /** A basin's keys set or deleted so far, for its merge. */
  | { type: 'touch'; keys: string[] }
  /** The flow is redriven: a stream that did not succeed runs again. */
  | { type: 'redrive'; kind: 'river' | 'parallel' | 'basin' | 'fork' | 'dam' }
  /** An attempt of a succeeded river's `compensate()` starts (the flow failed or was cancelled). */
  | { type: 'compensate'; attempt: number; at: number }
  /** The attempt of `compensate()` failed: tried again at `retryAt`, else the compensation failed with `error`. */
  | { type: 'compensateFailed'; error: FlowError; retryAt?: number; at: number }
  /** `compensate()` succeeded: the river is `compensated`. */
  | { type: 'compensated'; at: number };

/** What happens to a flow. */
export type FlowEvent =
  /** A waiting flow leaves the queue to run. */
  | { type: 'claim'; at: number }
  /** A river failed: the flow is failing, with its root error, from now on. */
  | { type: 'failing'; error: FlowError }
  /** A cancel was asked for; `run` when this engine takes the flow to carry it out (it runs from now on). */
  | { type: 'cancel'; reason: string; at: number; run?: boolean }
  /** The streams have settled: the flow ends. `hooks` when its Atlantic has hooks to run. */
  | { type: 'end'; status: 'success' | 'fail' | 'cancelled'; error?: FlowError; hooks: boolean; at: number }
  /** The Atlantic hook of the outcome ran (with `error` when it threw). */
  | { type: 'hooked'; error?: FlowError; at: number }
  /** A failed flow runs again (`waiting` when the concurrency window is full), at queue position `seq`. */
  | { type: 'redrive'; waiting: boolean; seq: number; at: number };

/** An event that does not fit the record's state: the engine tried a transition the machine does not have. */
export class IllegalTransition extends Error {
  constructor(what: string, state: string, event: string) {
    super(`illegal transition: ${what} in state ${state} cannot take event ${event}`);
    this.name = 'IllegalTransition';
  }
}

/** The states some events start from. */
const RUNNING = ['init', 'running'] as const;
const LIVE = ['running', 'cycling', 'waiting'] as const;
const UNENDED = ['init', 'running', 'cycling', 'waiting'] as const;

function need(rec: StreamRecord, states: readonly StreamState[] | StreamState, event: StreamEvent): void {
  const ok = typeof states === 'string' ? rec.state === states : states.includes(rec.state);
  if (!ok) throw new IllegalTransition('stream', rec.state, event.type);
}

/**
 * A copy of a record: the fields every record has in one order, so that the engine's hot path
 * stays monomorphic (an object spread of records of many shapes is several times slower); the
 * fields few records carry (errors, a fork's choice, a basin's keys) only where they are set, so
 * that a parked flow does not pay for them.
 */
function copy(r: StreamRecord): StreamRecord {
  const n: StreamRecord = {
    state: r.state,
    attempts: r.attempts,
    cycles: r.cycles,
    dueAt: r.dueAt,
    phase: r.phase,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    history: r.history,
  };
  if (r.errors !== undefined) n.errors = r.errors;
  if (r.error !== undefined) n.error = r.error;
  if (r.choice !== undefined) n.choice = r.choice;
  if (r.touched !== undefined) n.touched = r.touched;
  if (r.completion !== undefined) n.completion = r.completion;
  if (r.compensation !== undefined) n.compensation = r.compensation;
  return n;
}

/** A compensation that may take its next attempt: not begun, or begun and not ended. */
function compensable(rec: StreamRecord, event: StreamEvent): void {
  const c = rec.compensation;
  if (rec.state !== 'success' || (c !== undefined && (c.state === 'success' || c.state === 'fail'))) {
    throw new IllegalTransition('stream', c === undefined ? rec.state : `${rec.state} (compensation ${c.state})`, event.type);
  }
}

/** A compensation in a call of `compensate()`. */
function compensating(rec: StreamRecord, event: StreamEvent): NonNullable<StreamRecord['compensation']> {
  const c = rec.compensation;
  if (rec.state !== 'success' || c?.state !== 'running') {
    throw new IllegalTransition('stream', c === undefined ? rec.state : `${rec.state} (compensation ${c.state})`, event.type);
  }
  return c;
}

/** A river's record at its end: failed with `error`, or succeeded; it waits for nothing any more. */
function ended(n: StreamRecord, error: FlowError | undefined, at: number): StreamRecord {
  n.state = error === undefined ? 'success' : 'fail';
  if (error !== undefined || n.error !== undefined) n.error = error;
  n.endedAt = at;
  n.phase = undefined;
  n.dueAt = undefined;
  return n;
}

const appended = <T>(list: readonly T[] | undefined, item: T): T[] => (list === undefined ? [item] : [...list, item]);

/** A stream's record after `event`. */
export function nextStream(rec: StreamRecord, event: StreamEvent): StreamRecord {
  const n = copy(rec);
  switch (event.type) {
    case 'begin':
      need(rec, 'init', event);
      n.startedAt = event.at;
      return n;
    case 'attempt':
      need(rec, RUNNING, event);
      n.state = 'running';
      n.attempts = event.attempt;
      n.phase = 'flow';
      n.dueAt = undefined;
      return n;
    case 'attemptFailed':
      need(rec, 'running', event);
      n.errors = appended(rec.errors, event.error);
      if (event.retryAt !== undefined) {
        n.phase = 'retry';
        n.dueAt = event.retryAt;
      }
      return n;
    case 'cycle':
      need(rec, 'running', event);
      n.state = 'cycling';
      n.phase = 'cycle';
      n.dueAt = event.dueAt;
      return n;
    case 'polled':
      need(rec, 'cycling', event);
      n.cycles = event.poll;
      if (event.error !== undefined) n.errors = appended(rec.errors, event.error);
      if (event.nextAt !== undefined) n.dueAt = event.nextAt;
      return n;
    case 'end':
      need(rec, UNENDED, event);
      if (event.completion !== undefined && event.error === undefined) n.completion = event.completion;
      // a river's errors list its attempts' failures already; a Dam's failure is its one error
      if (event.error !== undefined && rec.state === 'waiting') n.errors = appended(rec.errors, event.error);
      return ended(n, event.error, event.at);
    case 'stop':
      need(rec, LIVE, event);
      return ended(n, event.error, event.at);
    case 'hold':
      need(rec, 'init', event);
      n.state = 'waiting';
      n.startedAt = event.at;
      n.dueAt = event.dueAt;
      return n;
    case 'skip':
      need(rec, 'init', event);
      n.state = 'skipped';
      return n;
    case 'call': {
      const entry: HistoryEntry = { attempt: event.attempt, phase: event.phase, startedAt: event.at };
      const h = rec.history;
      // a river that polls for long keeps its first entries and its latest ones
      n.history =
        h === undefined || h.length < HISTORY_LIMIT ? appended(h, entry) : [...h.slice(0, HISTORY_LIMIT / 2), ...h.slice(HISTORY_LIMIT / 2 + 1), entry];
      return n;
    }
    case 'called': {
      const h = rec.history;
      const last = h?.[h.length - 1];
      if (h === undefined || last === undefined || last.endedAt !== undefined) return rec;
      const done: HistoryEntry = { attempt: last.attempt, phase: last.phase, startedAt: last.startedAt, endedAt: event.at };
      if (event.error !== undefined) done.error = event.error;
      const history = h.slice();
      history[history.length - 1] = done;
      n.history = history;
      return n;
    }
    case 'open':
      if (rec.state !== 'init' && rec.state !== 'running') throw new IllegalTransition('container', rec.state, event.type);
      n.state = 'running';
      n.startedAt = rec.startedAt ?? event.at;
      return n;
    case 'close':
      need(rec, 'running', event);
      n.state = event.ok ? 'success' : 'fail';
      n.endedAt = event.at;
      if (event.error !== undefined) {
        n.errors = appended(rec.errors, event.error);
        n.error = event.error;
      }
      return n;
    case 'choose':
      need(rec, 'running', event);
      n.choice = event.choice;
      return n;
    case 'touch':
      n.touched = event.keys;
      return n;
    case 'compensate':
      compensable(rec, event);
      n.compensation = { state: 'running', attempts: event.attempt, startedAt: rec.compensation?.startedAt ?? event.at };
      return n;
    case 'compensateFailed': {
      const c = compensating(rec, event);
      n.compensation =
        event.retryAt !== undefined
          ? { state: 'retry', attempts: c.attempts, dueAt: event.retryAt, startedAt: c.startedAt }
          : { state: 'fail', attempts: c.attempts, startedAt: c.startedAt, endedAt: event.at, error: event.error };
      return n;
    }
    case 'compensated': {
      const c = compensating(rec, event);
      n.state = 'compensated';
      n.compensation = { state: 'success', attempts: c.attempts, startedAt: c.startedAt, endedAt: event.at };
      return n;
    }
    case 'redrive': {
      // (a flow whose compensations ran is never redriven: the engine refuses it)
      if (rec.state === 'success' || rec.state === 'init' || rec.state === 'compensated') return rec;
      if (event.kind === 'river' || event.kind === 'dam') {
        // a river starts over, keeping the errors and calls of its earlier runs and when it first started
        const fresh = copy({ state: 'init', attempts: 0, cycles: 0 });
        fresh.errors = rec.errors;
        fresh.history = rec.history;
        fresh.startedAt = rec.startedAt;
        return fresh;
      }
      // a container resumes; one that was skipped starts from the beginning (a fork chooses anew)
      n.state = rec.state === 'skipped' ? 'init' : 'running';
      n.endedAt = undefined;
      if (event.kind === 'fork' && rec.state === 'skipped') n.choice = undefined;
      return n;
    }
  }
}

/** A flow's header after `event`. */
export function nextFlow(h: FlowHeader, event: FlowEvent): FlowHeader {
  const bad = (): never => {
    throw new IllegalTransition('flow', h.status, event.type);
  };
  // one shape for every header, as for stream records
  const n: FlowHeader = {
    id: h.id,
    requestId: h.requestId,
    status: h.status,
    seq: h.seq,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    reqInfo: h.reqInfo,
    error: h.error,
    atlantic: h.atlantic,
    cancelReason: h.cancelReason,
  };
  switch (event.type) {
    case 'claim':
      if (h.status !== 'waiting') bad();
      n.status = 'running';
      n.updatedAt = event.at;
      return n;
    case 'failing':
      if (h.status !== 'running') bad();
      n.error = event.error;
      return n;
    case 'cancel':
      if (h.status !== 'running' && h.status !== 'waiting') bad();
      n.cancelReason = event.reason;
      n.updatedAt = event.at;
      if (event.run === true) n.status = 'running';
      return n;
    case 'end':
      if (h.status !== 'running') bad();
      n.status = event.status;
      n.error = event.error;
      n.updatedAt = event.at;
      // a flow without hooks has nothing left to do: its end and the hook's record are one write
      n.atlantic = { outcome: event.status === 'success' ? 'success' : 'fail', done: !event.hooks };
      return n;
    case 'hooked': {
      const a = h.atlantic;
      if (a === undefined || a.done) return bad();
      n.atlantic = event.error === undefined ? { outcome: a.outcome, done: true } : { outcome: a.outcome, done: true, error: event.error };
      n.updatedAt = event.at;
      return n;
    }
    case 'redrive':
      if (h.status !== 'fail') bad();
      n.status = event.waiting ? 'waiting' : 'running';
      n.seq = event.seq;
      n.updatedAt = event.at;
      n.error = undefined;
      n.atlantic = undefined;
      n.cancelReason = undefined;
      return n;
  }
}
