import type { FlowError } from '../errors/flow-error.js';
import type { Blueprint } from '../model/blueprint.js';
import type { Json, JsonObject } from '../model/json.js';

/** A flow's status. */
export const FlowStatus = Object.freeze({
  WAITING: 'waiting',
  RUNNING: 'running',
  SUCCESS: 'success',
  FAIL: 'fail',
  CANCELLED: 'cancelled',
} as const);
/** `waiting` (queued by the concurrency window) · `running` · `success` · `fail` · `cancelled`. */
export type FlowStatus = (typeof FlowStatus)[keyof typeof FlowStatus];

/** A stream's state. */
export const StreamState = Object.freeze({
  INIT: 'init',
  RUNNING: 'running',
  CYCLING: 'cycling',
  SUCCESS: 'success',
  FAIL: 'fail',
  SKIPPED: 'skipped',
  WAITING: 'waiting',
  COMPENSATED: 'compensated',
} as const);
/**
 * `init` · `running` · `cycling` · `success` · `fail` · `skipped` · `waiting` (a Dam holding its
 * branch) · `compensated` (a river that succeeded, then was undone by its `compensate()`).
 */
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** True for the statuses a flow ends in. */
export function isFinal(status: FlowStatus): boolean {
  return status === 'success' || status === 'fail' || status === 'cancelled';
}

/**
 * True while a flow has work left: it waits or runs, or it has ended and the Atlantic hook of its
 * outcome has not been recorded as run. Recovery resumes exactly these flows.
 */
export function isUnfinished(h: Pick<FlowHeader, 'status' | 'atlantic'>): boolean {
  return !isFinal(h.status) || (h.atlantic !== undefined && !h.atlantic.done);
}

/** The small, often rewritten part of a flow's record. */
export interface FlowHeader {
  id: string;
  requestId: string;
  status: FlowStatus;
  /** Position in the waiting queue: flows wait in ascending order of seq. */
  seq: number;
  createdAt: number;
  updatedAt: number;
  reqInfo?: Json;
  error?: FlowError;
  /** The Atlantic hook of the current outcome: recorded `done` once it has run. */
  atlantic?: { outcome: 'success' | 'fail'; done: boolean; error?: FlowError };
  /** A cancel asked for while the flow was running, kept so that recovery honours it. */
  cancelReason?: string;
  /**
   * While every river the flow runs waits (a retry, a poll, a Dam), the earliest time one of them
   * is due (ms since the epoch): no engine need hold the flow before then. Absent while it runs.
   */
  dueAt?: number;
}

/** One stream's progress, keyed by its position in the drawing (e.g. `0`, `1.0.2`). */
export interface StreamRecord {
  state: StreamState;
  /** Attempts of `flow()` started. */
  attempts: number;
  /** Calls of `cycle()` made. */
  cycles: number;
  /** When the next attempt or poll is due (ms since the epoch), while the river waits. */
  dueAt?: number;
  /** What the river is doing or waiting for: its `flow()`, a retry, or a poll. */
  phase?: 'flow' | 'retry' | 'cycle';
  startedAt?: number;
  endedAt?: number;
  /** Every failed attempt's error, oldest first. */
  errors?: FlowError[];
  /** Why the stream ended failed: its own failure, or E_CANCELLED when the flow stopped it. */
  error?: FlowError;
  /** Each call of `flow()` and `cycle()`, oldest first (at most 100: the first and the latest). */
  history?: HistoryEntry[];
  /** A fork's chosen branch. */
  choice?: string;
  /** A basin's changed keys (set or deleted) since it began, for the merge on success. */
  touched?: string[];
  /**
   * For a river that defines `compensate()` and succeeded: its place in the order in which such
   * rivers of the flow succeeded (1, 2, …). Compensations run in the reverse of this order.
   */
  completion?: number;
  /** The river's compensation, once it began. */
  compensation?: CompensationRecord;
}

/** The progress of one river's `compensate()` (its calls are in the river's history, phase `compensate`). */
export interface CompensationRecord {
  /** `running` (in a call of `compensate()`), `retry` (waiting until `dueAt`), then `success` or `fail`. */
  state: 'running' | 'retry' | 'success' | 'fail';
  /** Attempts of `compensate()` started. */
  attempts: number;
  /** When the next attempt is due, while it waits. */
  dueAt?: number;
  startedAt: number;
  endedAt?: number;
  /** Why it failed, once it has run out of retries. */
  error?: FlowError;
}

/** One call of a river's `flow()` (an attempt) or `cycle()` (a poll). */
export interface HistoryEntry {
  /** The attempt of `flow()`, or the poll's number for `cycle()`. */
  attempt: number;
  phase: 'flow' | 'cycle' | 'compensate';
  startedAt: number;
  endedAt?: number;
  error?: FlowError;
}

/** Keys set and deleted in one headwaters scope. */
export interface HeadwatersChange {
  set: JsonObject;
  del: string[];
}

/**
 * Everything one flow changes in one step. The store applies a group of these atomically.
 * Headwaters scopes: `main` for the flow's, a basin's stream id for the basin's isolated copy.
 */
export interface FlowChange {
  flowId: string;
  /**
   * Present once, when the flow is created: indexes its requestId and keeps its blueprint, and the
   * names of the classes it needs (an engine that lacks one never claims the flow).
   */
  create?: { blueprint: Blueprint; classes?: string[] };
  /**
   * The writer's claim on the flow. On a shared store the change is applied only while this is
   * still the flow's claim (otherwise it is fenced: dropped whole, and named in the write's result).
   * On a create, the new flow is claimed by it at once. Stores with one engine ignore it.
   */
  fence?: Fence;
  /** Commands of the flow carried out by this change (their seqs): removed from its inbox with it. */
  consumed?: number[];
  header?: FlowHeader;
  /** The flow left the waiting queue (it was claimed to run, or cancelled while waiting). */
  claimed?: true;
  /** A finished flow is unfinished again (redriven). */
  reopened?: true;
  streams?: Record<string, StreamRecord>;
  headwaters?: Record<string, HeadwatersChange>;
}

/** A flow as the store holds it: all that a snapshot or a recovery needs. */
export interface StoredFlow {
  header: FlowHeader;
  blueprint: Blueprint;
  streams: Record<string, StreamRecord>;
  /** The checkpointed headwaters, by scope. */
  headwaters: Record<string, JsonObject>;
}

/**
 * Which flows to list. Flows are listed in descending order of id: the engine's ids begin with
 * their creation time, so this is newest first.
 */
export interface FlowQuery {
  status?: FlowStatus;
  limit?: number;
  /** Only flows listed after this id (the last id of the page before). */
  before?: string;
}

/** Which ended flows {@link Store.purge} deletes. */
export interface PurgeQuery {
  /** Flows whose `updatedAt` is before this (ms since the epoch). */
  before: number;
  /** Only flows of this status. */
  status?: 'success' | 'fail' | 'cancelled';
}

/** An engine's claim on a flow: its owner and the claim's epoch (one more at each new claim). */
export interface Fence {
  owner: string;
  epoch: number;
}

/** What a write did not apply. */
export interface WriteResult {
  /** Flows whose changes were dropped because the writer's claim on them was lost. */
  fenced: string[];
  /** Flows not created because their requestId already names another flow (a concurrent start). */
  duplicates: string[];
}

/** A flow claimed by an engine. */
export interface Claim {
  flowId: string;
  epoch: number;
  /**
   * The flow as stored, read in the claim itself when the query asked for it (`load`) and the
   * store can: the engine runs it without reading it again. Absent: the engine reads it.
   */
  flow?: StoredFlow;
  /** Set when the claim read the flow (`flow`) and saw no command in its inbox: the engine need not read it. */
  inboxEmpty?: true;
}

/** Which flows an engine claims, and for how long. */
export interface ClaimQuery {
  /** The claiming engine's worker id. */
  owner: string;
  /** The engine's clock (ms since the epoch): due times and leases are compared with it. */
  now: number;
  /** At most this many flows. */
  limit: number;
  /**
   * The classes the engine has registered: a flow that needs another is not claimed. Omitted: any.
   */
  classes?: ReadonlySet<string>;
  /**
   * Only these flows (recovery of known ids, or a flow a command woke). Omitted: unfinished flows
   * held by no live engine and due (no `dueAt`, or `dueAt <= now`), oldest first, then waiting
   * flows in queue order.
   */
  ids?: readonly string[];
  /** Read each claimed flow with its claim, where the store can (see {@link Claim.flow}). */
  load?: boolean;
}

/** An engine's heartbeat: it keeps the engine's claims alive until `now + leaseMs`. */
export interface WorkerBeat {
  id: string;
  now: number;
  leaseMs: number;
  /** Flows the engine runs now. */
  running: number;
  /** Flows the engine believes it holds: the answer names those it no longer does. */
  held: readonly string[];
}

/** A live engine on a store. */
export interface WorkerInfo {
  id: string;
  heartbeatAt: number;
  running: number;
}

/** What an operator or another engine asks of the engine that runs a flow. */
export type CommandBody = { kind: 'cancel'; reason?: string } | { kind: 'redrive' } | { kind: 'message'; name: string; payload: Json };

/** A command in a flow's inbox, until a change of the flow consumes it. */
export interface StoredCommand {
  /** Increasing across the store: commands are carried out in seq order. */
  seq: number;
  flowId: string;
  at: number;
  body: CommandBody;
}

/** Which commands to list. */
export interface CommandQuery {
  flowId?: string;
  /** Only commands of flows this worker holds. */
  owner?: string;
  /** Only commands with a seq above this. */
  after?: number;
  /** Only commands of these kinds. */
  kinds?: ReadonlyArray<CommandBody['kind']>;
}

/** A flow's header changed (the change feed). */
export interface ChangeEntry {
  flowId: string;
  status: FlowStatus;
  updatedAt: number;
}

/** A page of the change feed, and the cursor to read the next one from. */
export interface ChangePage {
  cursor: string;
  entries: ChangeEntry[];
}
