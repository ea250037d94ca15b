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
} as const);
/** `init` · `running` · `cycling` · `success` · `fail` · `skipped`. */
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
  /** Present once, when the flow is created: indexes its requestId and keeps its blueprint. */
  create?: { blueprint: Blueprint };
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

/** Which flows to list. */
export interface FlowQuery {
  status?: FlowStatus;
  limit?: number;
}
