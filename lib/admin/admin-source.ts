import type { FlowSnapshot, FlowSummary } from '../engine/snapshot.js';
import type { Json } from '../model/json.js';
import type { FlowStatus, WorkerInfo } from '../store/records.js';
import { VastflowError } from '../errors/vastflow-error.js';

/** The error of every admin source, and of the admin API, for an id or requestId of no flow. */
export const notFound = (idOrRequestId: string): VastflowError => new VastflowError('E_NOT_FOUND', `no flow "${idOrRequestId}"`);
/** True for the message of {@link notFound}: an E_NOT_FOUND of no flow, not of a path the admin server has no route for. */
export const isNoFlow = (message: string): boolean => message.startsWith('no flow "');

/** Which flows a listing asks for (the admin API's `GET /api/flows`). */
export interface AdminListQuery {
  status?: FlowStatus;
  limit: number;
  /** The last id of the page before. */
  before?: string;
}

/** An event as the admin server streams it: the engine event's name and its payload. */
export type AdminEventListener = (name: string, payload: Record<string, unknown>) => void;

/**
 * What the admin server and the CLI need of whatever holds the flows: an engine (which carries
 * commands out itself), or a store opened directly (which records them for the engine that runs
 * the flow). Every call that names a flow takes its id or its requestId.
 */
export interface AdminSource {
  list(query: AdminListQuery): Promise<FlowSummary[]>;
  get(idOrRequestId: string): Promise<FlowSnapshot | undefined>;
  /**
   * The flow's status after the call: `cancelled` once the cancel was carried out, its ended status
   * when it had ended before (left as it is), else the status it has while the cancel is recorded
   * or under way. @throws E_NOT_FOUND.
   */
  cancel(idOrRequestId: string, reason?: string): Promise<{ id: string; status: FlowStatus }>;
  /**
   * `recorded`: the redrive waits in the flow's inbox for an engine with the flow's classes (the
   * source runs no flow, or this engine lacks them); false once it was carried out.
   * @throws E_NOT_FOUND; E_CONFLICT when the flow has not failed.
   */
  redrive(idOrRequestId: string): Promise<{ id: string; recorded: boolean }>;
  /** @throws E_NOT_FOUND; E_CONFLICT when the flow has ended; E_INVALID_ARGUMENT for an empty name. */
  send(idOrRequestId: string, name: string, payload: Json): Promise<{ id: string }>;
  workers(): Promise<WorkerInfo[]>;
  /** Removes ended flows last updated before `before` (ms since the epoch); the number removed. */
  purge(query: { before: number; status?: 'success' | 'fail' | 'cancelled' }): Promise<number>;
  /** Streams events to `listener` until the returned function is called. */
  subscribe(listener: AdminEventListener): () => void;
}

/** The names of the engine's events that the admin server streams (Part 2's too). */
export const ENGINE_EVENT_NAMES = [
  'flow:start',
  'flow:end',
  'flow:message',
  'river:start',
  'river:retry',
  'river:cycle',
  'river:end',
  'river:compensate',
] as const;
