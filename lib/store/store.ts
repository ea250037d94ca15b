import type {
  ChangePage,
  Claim,
  ClaimQuery,
  CommandBody,
  CommandQuery,
  FlowChange,
  FlowHeader,
  FlowQuery,
  PurgeQuery,
  StoredCommand,
  StoredFlow,
  WorkerBeat,
  WorkerInfo,
  WriteResult,
} from './records.js';

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
  /**
   * Several engines may open the store at once (PostgreSQL): claims expire with their lease and
   * writes are fenced. Otherwise the one engine that opened the store owns every flow, claims are
   * only bookkeeping and no write is fenced. @default false
   */
  readonly shared?: boolean;
  /** `changes()` reads a change feed that other processes' writes show up in. @default false */
  readonly changes?: boolean;
}

/** What the engine tells a store as it opens it. */
export interface StoreOpenOptions {
  /** How long to wait for the store's server (ms), unless the store was given a timeout of its own. */
  connectTimeoutMs?: number;
  /**
   * How long a store with a server waits for the answer to one statement (ms) before it calls the
   * server unreachable (E_STORE_UNAVAILABLE): a connection that is up but carries nothing any more
   * (a network partition) fails the engine's heartbeats and writes, instead of holding them for ever.
   */
  queryTimeoutMs?: number;
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
  /**
   * `options.connectTimeoutMs`: how long a store with a server waits for it, as the engine's
   * `worker.connectTimeout` says (a store told a timeout of its own keeps that one).
   * @throws VastflowError E_STORE_LOCKED when another engine holds the store.
   */
  open(options?: StoreOpenOptions): Promise<void>;
  close(): Promise<void>;
  /**
   * Applies the changes of one or many flows as one atomic write: all of them or none. When the
   * store was opened with `sync`, resolves only after the write reached the disk. The engine treats
   * a failed write as final (it takes no more work); a store may refuse every write after one failed
   * (LevelStore does, with E_STORE_UNAVAILABLE).
   */
  write(changes: readonly FlowChange[]): Promise<WriteResult>;
  /**
   * The flow's full record. @throws VastflowError E_STORE_CORRUPT when it cannot be read, or (a
   * store that checks, as LevelStore does) when its records disagree with each other.
   */
  getFlow(id: string): Promise<StoredFlow | undefined>;
  /**
   * Optional: the flows among `ids` that have ended (not unfinished: finished, their hook run), as
   * stored, read at once. An engine awaiting the outcomes of many flows other engines run reads
   * them with one call per poll; without it, one getFlow per awaited flow.
   */
  getEnded?(ids: readonly string[]): Promise<StoredFlow[]>;
  /** The id of the flow started with this requestId. */
  findFlowId(requestId: string): Promise<string | undefined>;
  /** Flow headers in descending id order (newest first), by status and in pages of `limit`. */
  listFlows(query?: FlowQuery): Promise<FlowHeader[]>;
  /** Ids of flows not yet ended (running, waiting, or with an Atlantic hook still to run). */
  listUnfinished(): Promise<string[]>;
  /** Ids of waiting flows, in queue order. */
  listWaiting(): Promise<string[]>;
  /**
   * Ids of unfinished flows that are due by `now` (no `dueAt`, or `dueAt <= now`) and held by no
   * live engine, at most `limit`: those without `dueAt` first (they were running), then earliest due.
   */
  listDue(now: number, limit: number): Promise<string[]>;

  /**
   * Claims flows for `query.owner` (see {@link ClaimQuery}): each claim gets a new epoch, which the
   * owner's writes carry as their fence. A flow already held by a live engine other than the owner
   * is not claimed; one the owner holds already keeps its epoch.
   */
  claim(query: ClaimQuery): Promise<Claim[]>;
  /** Gives up the owner's claims on these flows at once (another engine may take them). */
  release(owner: string, flowIds: readonly string[]): Promise<void>;
  /**
   * Records the engine's heartbeat, which keeps all its claims alive until `now + leaseMs`, and
   * answers which of the flows it believes it holds it has lost.
   */
  heartbeat(beat: WorkerBeat): Promise<{ lost: string[] }>;
  /** The engines whose heartbeat is still alive at `now`. */
  workers(now: number): Promise<WorkerInfo[]>;
  /** Removes the worker's heartbeat and releases every flow it holds (a clean close). */
  leave(owner: string): Promise<void>;

  /**
   * Appends a command to a flow's inbox (durably, before it resolves). Resolves with the stored
   * command, or undefined when the store holds no such flow.
   */
  addCommand(flowId: string, body: CommandBody, at: number): Promise<StoredCommand | undefined>;
  /** Commands not yet consumed, in seq order. */
  listCommands(query?: CommandQuery): Promise<StoredCommand[]>;

  /**
   * Deletes the ended flows (finished, and their Atlantic hook recorded as run) last updated
   * before `query.before`, optionally only those of one status, with all their records, index
   * entries and commands; never an unfinished flow. Resolves with the number deleted. Optional:
   * a store without it cannot purge (`engine.purge` rejects with E_INVALID_ARGUMENT).
   */
  purge?(query: PurgeQuery): Promise<number>;
  /**
   * Headers changed after `cursor` (from the start when omitted), in the order they changed, at
   * most `limit`. Only on stores with `supports.changes`.
   */
  changes?(cursor: string | undefined, limit: number): Promise<ChangePage>;
  /**
   * Tells `onNotice` of other processes' writes as they land (a command added, a flow become
   * runnable by another engine's release or a client's start), so that engines need not poll
   * fast. Resolves with a function that stops it. Only on shared stores; optional there too (the
   * engine then polls at its heartbeat).
   */
  watch?(onNotice: (notice: StoreNotice) => void): Promise<() => Promise<void>>;
}

/** What {@link Store.watch} reports. */
export type StoreNotice = { kind: 'command'; flowId: string } | { kind: 'runnable' };

const STORE_METHODS = [
  'open',
  'close',
  'write',
  'getFlow',
  'findFlowId',
  'listFlows',
  'listUnfinished',
  'listWaiting',
  'listDue',
  'claim',
  'release',
  'heartbeat',
  'workers',
  'leave',
  'addCommand',
  'listCommands',
] as const;

/** The stored flow with this id, else the one started with this requestId. */
export async function findStored(store: Store, idOrRequestId: string): Promise<StoredFlow | undefined> {
  const byId = await store.getFlow(idOrRequestId);
  if (byId !== undefined) return byId;
  const id = await store.findFlowId(idOrRequestId);
  return id === undefined ? undefined : store.getFlow(id);
}

/**
 * Records a redrive in the flow's inbox for an engine that has its classes, unless one waits there
 * already: one is enough (a second would run the flow again when the first fails it again). False
 * when there is no such flow (purged meanwhile).
 */
export async function recordRedrive(store: Store, flowId: string, at: number): Promise<boolean> {
  if ((await store.listCommands({ flowId, kinds: ['redrive'] })).length > 0) return true;
  return (await store.addCommand(flowId, { kind: 'redrive' }, at)) !== undefined;
}

/** True for an object that implements {@link Store}. */
export function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return STORE_METHODS.every((m) => typeof v[m] === 'function');
}
