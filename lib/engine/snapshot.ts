import type { FlowError } from '../errors/flow-error.js';
import type { JsonObject } from '../model/json.js';
import { isFinal, type CompensationRecord, type FlowHeader, type FlowStatus, type HistoryEntry, type StoredFlow, type StreamState } from '../store/records.js';
import { walkBlueprint, type StreamKind } from '../model/stream-tree.js';
import type { Blueprint } from '../model/blueprint.js';
import type { FlowOutcome } from '../model/flow-run.js';
import { findStored, type Store } from '../store/store.js';

/** One stream of a flow snapshot. */
export interface StreamSnapshot {
  /** Position in the drawing: `0`, `1.0.2`, … */
  id: string;
  kind: StreamKind;
  /** The registered name (rivers and forks), a Dam's message name (`Dam` for a durable sleep), or `ParallelRiver` / `Basin`. */
  name: string;
  color: string;
  state: StreamState;
  attempts: number;
  cycles: number;
  startedAt?: number;
  endedAt?: number;
  /** When the next attempt or poll is due, while the river waits; when a timed Dam opens. */
  dueAt?: number;
  /** Every failed attempt's error, oldest first. */
  errors: FlowError[];
  /**
   * Why a failed stream failed: its own failure, or code E_CANCELLED (with `cause.river` naming
   * the river that failed, when one did) for a river the flow stopped.
   */
  error?: FlowError;
  /** Each call of `flow()` (phase `flow`, by attempt) and `cycle()` (phase `cycle`, by poll), oldest first. */
  history: HistoryEntry[];
  /** A fork's chosen branch. */
  choice?: string;
  /**
   * A river's compensation, once it began (the flow failed or was cancelled after the river
   * succeeded): `state` `running`, `retry` (until `dueAt`), `success` or `fail` (with `error`).
   */
  compensation?: CompensationRecord;
}

/** A flow as `engine.get(id)` returns it. */
export interface FlowSnapshot {
  id: string;
  requestId: string;
  status: FlowStatus;
  headwaters: JsonObject;
  error?: FlowError;
  createdAt: number;
  updatedAt: number;
  /** Every stream in drawing order. */
  streams: StreamSnapshot[];
  /** The flow's drawing. */
  blueprint: Blueprint;
  /**
   * The Atlantic hook of the flow's outcome, once the flow has ended: `done` when it has run (or the
   * flow has no hooks), `error` when it threw (the flow's status stays what its rivers made it).
   */
  atlantic?: { hook: 'success' | 'fail'; done: boolean; error?: FlowError };
  /** A cancel asked for that has not taken effect yet (the engine that runs the flow carries it out). */
  pendingCancel?: { reason: string };
}

/** A flow in a listing. */
export interface FlowSummary {
  id: string;
  requestId: string;
  status: FlowStatus;
  createdAt: number;
  updatedAt: number;
}

/** The summary of a header. */
export function summaryOf(h: FlowHeader): FlowSummary {
  return { id: h.id, requestId: h.requestId, status: h.status, createdAt: h.createdAt, updatedAt: h.updatedAt };
}

/** The outcome of a stored flow that has ended, as `run.result()` resolves with it. */
export function outcomeOf(stored: StoredFlow): FlowOutcome {
  const h = stored.header;
  const out: FlowOutcome = { id: h.id, requestId: h.requestId, status: h.status as FlowOutcome['status'], headwaters: stored.headwaters['main'] ?? {} };
  if (h.error !== undefined) out.error = h.error;
  return out;
}

/**
 * The snapshot of the flow with this id or requestId in `store`, or undefined. A cancel that waits
 * in the flow's inbox (recorded by the CLI, or for the engine that runs the flow) is its
 * `pendingCancel` as well.
 */
export async function readSnapshot(store: Store, idOrRequestId: string): Promise<FlowSnapshot | undefined> {
  const stored = await findStored(store, idOrRequestId);
  if (stored === undefined) return undefined;
  const snap = snapshotOf(stored);
  if (snap.pendingCancel === undefined && !isFinal(snap.status)) {
    const [cancel] = await store.listCommands({ flowId: snap.id, kinds: ['cancel'] });
    if (cancel?.body.kind === 'cancel') snap.pendingCancel = { reason: cancel.body.reason ?? 'cancelled' };
  }
  return snap;
}

/** The snapshot of a stored flow. */
export function snapshotOf(stored: StoredFlow): FlowSnapshot {
  const h = stored.header;
  const streams: StreamSnapshot[] = [];
  walkBlueprint(stored.blueprint.streams, ({ id, kind, name, color }) => {
    const rec = stored.streams[id] ?? { state: 'init', attempts: 0, cycles: 0 };
    const snap: StreamSnapshot = {
      id,
      kind,
      name,
      color,
      state: rec.state,
      attempts: rec.attempts,
      cycles: rec.cycles,
      errors: rec.errors ?? [],
      history: rec.history ?? [],
    };
    if (rec.error !== undefined) snap.error = rec.error;
    if (rec.startedAt !== undefined) snap.startedAt = rec.startedAt;
    if (rec.endedAt !== undefined) snap.endedAt = rec.endedAt;
    if (rec.dueAt !== undefined) snap.dueAt = rec.dueAt;
    if (rec.choice !== undefined) snap.choice = rec.choice;
    if (rec.compensation !== undefined) snap.compensation = rec.compensation;
    streams.push(snap);
  });
  const snap: FlowSnapshot = {
    id: h.id,
    requestId: h.requestId,
    status: h.status,
    headwaters: stored.headwaters['main'] ?? {},
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    streams,
    blueprint: stored.blueprint,
  };
  if (h.error !== undefined) snap.error = h.error;
  if (h.cancelReason !== undefined && !isFinal(h.status)) snap.pendingCancel = { reason: h.cancelReason };
  if (h.atlantic !== undefined) {
    snap.atlantic = { hook: h.atlantic.outcome, done: h.atlantic.done };
    if (h.atlantic.error !== undefined) snap.atlantic.error = h.atlantic.error;
  }
  return snap;
}
