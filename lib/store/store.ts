import type { FlowChange, FlowHeader, FlowQuery, StoredFlow } from './records.js';

/** A store's lifecycle state. */
export type StoreStatus = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** What a store can do beyond the minimum. */
export interface StoreSupports {
  /** `sync`: a write resolves only once it is on the disk. */
  readonly sync: boolean;
  /** Flows are kept across close and reopen. */
  readonly persistent: boolean;
  /**
   * `write()` may be called again before an earlier call has settled, with changes of other flows,
   * and gains from it (LevelDB joins concurrent writes into one log write and one fsync). The engine
   * then writes in two lanes; otherwise it waits for each write before the next. @default false
   */
  readonly concurrentWrites?: boolean;
}

/**
 * Where the engine keeps flows. It speaks in workflow operations, not keys, so that a LevelDB,
 * an in-memory or a SQL store can each implement it. Calls on a closed store reject with E_CLOSED.
 * Run `spec/store/conformance` against an implementation to check it.
 */
export interface Store {
  readonly status: StoreStatus;
  /** Optional features, for the engine and the conformance suite. */
  readonly supports: StoreSupports;
  /** @throws VastflowError E_STORE_LOCKED when another engine holds the store. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Applies the changes of one or many flows as one atomic write: all of them or none. When the
   * store was opened with `sync`, resolves only after the write reached the disk. The engine treats
   * a failed write as final (it takes no more work); a store may refuse every write after one failed
   * (LevelStore does, with E_STORE_UNAVAILABLE).
   */
  write(changes: readonly FlowChange[]): Promise<void>;
  /**
   * The flow's full record. @throws VastflowError E_STORE_CORRUPT when it cannot be read, or (a
   * store that checks, as LevelStore does) when its records disagree with each other.
   */
  getFlow(id: string): Promise<StoredFlow | undefined>;
  /** The id of the flow started with this requestId. */
  findFlowId(requestId: string): Promise<string | undefined>;
  /** Flow headers, newest first. */
  listFlows(query?: FlowQuery): Promise<FlowHeader[]>;
  /** Ids of flows not yet ended (running, waiting, or with an Atlantic hook still to run). */
  listUnfinished(): Promise<string[]>;
  /** Ids of waiting flows, in queue order. */
  listWaiting(): Promise<string[]>;
}

/** True for an object that implements {@link Store}. */
export function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['open', 'close', 'write', 'getFlow', 'findFlowId', 'listFlows', 'listUnfinished', 'listWaiting'].every((m) => typeof v[m] === 'function');
}
