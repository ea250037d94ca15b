import type { FlowError } from '../errors/flow-error.js';
import type { FlowHeader, FlowStatus, HistoryEntry, StreamRecord, StreamState } from '../store/records.js';

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
  /** The river ended: succeeded, or failed with `error`. */
  | { type: 'end'; error?: FlowError; at: number }
  /** The flow stopped the river (it failed or was cancelled meanwhile). */
  | { type: 'stop'; error: FlowError; at: number }
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
  | { type: 'redrive'; kind: 'river' | 'parallel' | 'basin' | 'fork' };

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

const RUNNING: ReadonlySet<StreamState> = new Set(['init', 'running']);
const LIVE: ReadonlySet<StreamState> = new Set(['running', 'cycling']);
const UNENDED: ReadonlySet<StreamState> = new Set(['init', 'running', 'cycling']);

function need(rec: StreamRecord, states: ReadonlySet<StreamState> | StreamState, event: StreamEvent): void {
  const ok = typeof states === 'string' ? rec.state === states : states.has(rec.state);
  if (!ok) throw new IllegalTransition('stream', rec.state, event.type);
}

/** A stream's record after `event`. */
export function nextStream(rec: StreamRecord, event: StreamEvent): StreamRecord {
  switch (event.type) {
    case 'begin':
      need(rec, 'init', event);
      return { ...rec, startedAt: event.at };
    case 'attempt':
      need(rec, RUNNING, event);
      return { ...rec, state: 'running', attempts: event.attempt, phase: 'flow', dueAt: undefined };
    case 'attemptFailed': {
      need(rec, 'running', event);
      const next: StreamRecord = { ...rec, errors: [...(rec.errors ?? []), event.error] };
      if (event.retryAt !== undefined) {
        next.phase = 'retry';
        next.dueAt = event.retryAt;
      }
      return next;
    }
    case 'cycle':
      need(rec, 'running', event);
      return { ...rec, state: 'cycling', phase: 'cycle', dueAt: event.dueAt };
    case 'polled': {
      need(rec, 'cycling', event);
      const next: StreamRecord = { ...rec, cycles: event.poll };
      if (event.error !== undefined) next.errors = [...(rec.errors ?? []), event.error];
      if (event.nextAt !== undefined) next.dueAt = event.nextAt;
      return next;
    }
    case 'end':
      need(rec, UNENDED, event);
      return { ...rec, state: event.error === undefined ? 'success' : 'fail', error: event.error, endedAt: event.at, phase: undefined, dueAt: undefined };
    case 'stop':
      need(rec, LIVE, event);
      return { ...rec, state: 'fail', error: event.error, endedAt: event.at, phase: undefined, dueAt: undefined };
    case 'skip':
      need(rec, 'init', event);
      return { ...rec, state: 'skipped' };
    case 'call': {
      const entry: HistoryEntry = { attempt: event.attempt, phase: event.phase, startedAt: event.at };
      const h = rec.history ?? [];
      // a river that polls for long keeps its first entries and its latest ones
      const history = h.length < HISTORY_LIMIT ? [...h, entry] : [...h.slice(0, HISTORY_LIMIT / 2), ...h.slice(HISTORY_LIMIT / 2 + 1), entry];
      return { ...rec, history };
    }
    case 'called': {
      const h = rec.history;
      const last = h?.at(-1);
      if (h === undefined || last === undefined || last.endedAt !== undefined) return rec;
      const done: HistoryEntry = { ...last, endedAt: event.at };
      if (event.error !== undefined) done.error = event.error;
      return { ...rec, history: [...h.slice(0, -1), done] };
    }
    case 'open':
      if (rec.state !== 'init' && rec.state !== 'running') throw new IllegalTransition('container', rec.state, event.type);
      return { ...rec, state: 'running', startedAt: rec.startedAt ?? event.at };
    case 'close': {
      need(rec, 'running', event);
      const next: StreamRecord = { ...rec, state: event.ok ? 'success' : 'fail', endedAt: event.at };
      if (event.error !== undefined) {
        next.errors = [...(rec.errors ?? []), event.error];
        next.error = event.error;
      }
      return next;
    }
    case 'choose':
      need(rec, 'running', event);
      return { ...rec, choice: event.choice };
    case 'touch':
      return { ...rec, touched: event.keys };
    case 'redrive': {
      if (rec.state === 'success' || rec.state === 'init') return rec;
      if (event.kind === 'river') {
        // a river starts over, keeping the errors and calls of its earlier runs and when it first started
        const next: StreamRecord = { state: 'init', attempts: 0, cycles: 0 };
        if (rec.errors !== undefined) next.errors = rec.errors;
        if (rec.history !== undefined) next.history = rec.history;
        if (rec.startedAt !== undefined) next.startedAt = rec.startedAt;
        return next;
      }
      // a container resumes; one that was skipped starts from the beginning (a fork chooses anew)
      const next: StreamRecord = { ...rec, state: rec.state === 'skipped' ? 'init' : 'running', endedAt: undefined };
      if (event.kind === 'fork' && rec.state === 'skipped') next.choice = undefined;
      return next;
    }
  }
}

/** A flow's header after `event`. */
export function nextFlow(h: FlowHeader, event: FlowEvent): FlowHeader {
  const bad = (): never => {
    throw new IllegalTransition('flow', h.status, event.type);
  };
  switch (event.type) {
    case 'claim':
      if (h.status !== 'waiting') bad();
      return { ...h, status: 'running', updatedAt: event.at };
    case 'failing':
      if (h.status !== 'running') bad();
      return { ...h, error: event.error };
    case 'cancel': {
      if (h.status !== 'running' && h.status !== 'waiting') bad();
      const next: FlowHeader = { ...h, cancelReason: event.reason, updatedAt: event.at };
      if (event.run === true) next.status = 'running';
      return next;
    }
    case 'end': {
      if (h.status !== 'running') bad();
      const next: FlowHeader = { ...h, status: event.status, error: event.error, updatedAt: event.at };
      // a flow without hooks has nothing left to do: its end and the hook's record are one write
      next.atlantic = { outcome: event.status === 'success' ? 'success' : 'fail', done: !event.hooks };
      return next;
    }
    case 'hooked': {
      if (h.atlantic === undefined || h.atlantic.done) bad();
      const atlantic = { ...h.atlantic!, done: true };
      if (event.error !== undefined) atlantic.error = event.error;
      return { ...h, atlantic, updatedAt: event.at };
    }
    case 'redrive': {
      if (h.status !== 'fail') bad();
      const status: FlowStatus = event.waiting ? 'waiting' : 'running';
      return { ...h, status, seq: event.seq, updatedAt: event.at, error: undefined, atlantic: undefined, cancelReason: undefined };
    }
  }
}
