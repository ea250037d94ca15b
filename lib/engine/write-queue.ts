import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import type { Fence, FlowChange, WriteResult } from '../store/records.js';
import type { Store } from '../store/store.js';
import { deferred, type Deferred } from '../util/deferred.js';

interface Batch extends Deferred<void> {
  changes: Map<string, FlowChange>;
}

function newBatch(): Batch {
  // a batch nobody awaits must not crash the process when its write fails: the runner that
  // awaits a later batch, or engine.close(), sees the store's failure
  return { ...deferred<void>(true), changes: new Map() };
}

/**
 * Group commit: the changes pushed by every flow while a write is in flight (or within one turn
 * of the event loop) go to the store as one atomic write, and everyone who pushed continues when
 * it lands. Changes to the same flow in one batch are merged, latest wins, so a river whose start
 * and end fall in one batch costs one record.
 *
 * Flows are spread over `lanes` by id. A lane writes its batches strictly in order, one at a time,
 * so a change of a flow that is durable implies every change of that flow pushed before it is
 * durable too; different lanes hold different flows, whose records never share a key, and write at
 * the same time. LevelDB joins writes that arrive together into one log write (and one fsync), so
 * with `sync: true` a second lane fills while the first waits for the disk.
 *
 * A failed write is final: what a flow pushed after a lost change must not land without it, so from
 * the first failure on every batch, queued or pushed later, rejects with that failure
 * (E_STORE_UNAVAILABLE) and nothing more is written. `onFailure` hears of it first, once.
 */
export class WriteQueue {
  readonly #lanes: Lane[];
  #failure: VastflowError | undefined;
  readonly #onFailure: (err: VastflowError) => void;
  /** @internal the claims that fence each flow's writes, and who hears of what a write dropped */
  readonly claims: WriteClaims | undefined;

  constructor(store: Store, lanes = 1, onFailure: (err: VastflowError) => void = () => {}, claims?: WriteClaims) {
    this.#onFailure = onFailure;
    this.claims = claims;
    this.#lanes = Array.from({ length: lanes }, () => new Lane(store, this));
  }

  /** The first failed write's error, once a write has failed. */
  get failure(): VastflowError | undefined {
    return this.#failure;
  }

  /** @internal (called by a lane) */
  failed(err: unknown): VastflowError {
    if (this.#failure !== undefined) return this.#failure;
    // E_CLOSED (a write after the store closed) and a store's own E_STORE_UNAVAILABLE keep their code
    this.#failure = isVastflowError(err)
      ? err
      : new VastflowError('E_STORE_UNAVAILABLE', `the store failed a write: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    this.#onFailure(this.#failure);
    return this.#failure;
  }

  /**
   * Queues a change; resolves when it is in the store. The change object is the queue's from now
   * on: the caller must not touch it again.
   */
  push(change: FlowChange): Promise<void> {
    const id = change.flowId;
    return this.#lanes[id.charCodeAt(id.length - 1) % this.#lanes.length]!.push(change);
  }

  /** Resolves when everything pushed so far is in the store. */
  async flush(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.flush()));
  }
}

/**
 * On a shared store: each change carries its flow's fence, and the writer hears what was dropped.
 * A change of a flow the engine holds no claim on (it lost the claim: its heartbeat or a fenced
 * write said so) is dropped without being sent, as a fenced one: unfenced, the store would take
 * it. Only a create (which claims its flow, or leaves it waiting) and a redrive (of an ended flow,
 * which no engine runs) are written without a claim.
 */
export interface WriteClaims {
  fence(flowId: string): Fence | undefined;
  /** Called before the write's pushers continue. */
  dropped(result: WriteResult): void;
  /**
   * How long a write that failed with E_STORE_UNAVAILABLE (the database went away) is tried again,
   * with backoff, before the failure is final; `retrying` hears of each try.
   */
  retryForMs: number;
  retrying(err: VastflowError, attempt: number): void;
}

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2_000;

/** Writes `changes`, trying again while the store is unavailable and `claims` allows it. */
async function writeWithRetry(store: Store, changes: FlowChange[], claims: WriteClaims | undefined): Promise<WriteResult> {
  const deadline = claims === undefined ? 0 : Date.now() + claims.retryForMs;
  for (let attempt = 1, wait = RETRY_FIRST_MS; ; attempt++, wait = Math.min(wait * 2, RETRY_MAX_MS)) {
    try {
      return await store.write(changes);
    } catch (err) {
      // the last try is at the deadline: a database back just before it is not given up on
      const left = deadline - Date.now();
      if (claims === undefined || !isVastflowError(err, 'E_STORE_UNAVAILABLE') || left <= 0) throw err;
      claims.retrying(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(wait, left)));
    }
  }
}

/** One ordered sequence of batches. */
class Lane {
  readonly #store: Store;
  readonly #queue: WriteQueue;
  #next: Batch | undefined;
  #inFlight: Promise<void> | undefined;
  #scheduled = false;

  constructor(store: Store, queue: WriteQueue) {
    this.#store = store;
    this.#queue = queue;
  }

  push(change: FlowChange): Promise<void> {
    const failure = this.#queue.failure;
    if (failure !== undefined) {
      // as quiet as a batch's promise: a write nobody awaits (a river's start) must not crash the process
      const refused = deferred<void>(true);
      refused.reject(failure);
      return refused.promise;
    }
    const batch = (this.#next ??= newBatch());
    const held = batch.changes.get(change.flowId);
    if (held === undefined) batch.changes.set(change.flowId, change);
    else merge(held, change);
    this.#schedule();
    return batch.promise;
  }

  async flush(): Promise<void> {
    while (this.#next !== undefined || this.#inFlight !== undefined) {
      await (this.#next?.promise ?? this.#inFlight)?.catch(() => {});
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== undefined) return;
    this.#scheduled = true;
    // one turn of the event loop lets every flow that is ready now push its change first
    setImmediate(() => {
      this.#scheduled = false;
      this.#write();
    });
  }

  #write(): void {
    const batch = this.#next;
    if (batch === undefined) return;
    this.#next = undefined;
    const failure = this.#queue.failure;
    if (failure !== undefined) return batch.reject(failure);
    const claims = this.#queue.claims;
    let changes = [...batch.changes.values()];
    /** Changes of flows this engine holds no claim on: never written (see WriteClaims). */
    const unclaimed: string[] = [];
    if (claims !== undefined) {
      for (const c of changes) {
        const fence = claims.fence(c.flowId);
        if (fence !== undefined) c.fence = fence;
        // creates, redrives and a carried-out command of a flow nobody holds are the writes without a claim
        else if (c.create === undefined && c.reopened !== true && !onlyConsumes(c)) unclaimed.push(c.flowId);
      }
      if (unclaimed.length > 0) changes = changes.filter((c) => !unclaimed.includes(c.flowId));
    }
    const written = changes.length === 0 ? Promise.resolve({ fenced: [], duplicates: [] }) : writeWithRetry(this.#store, changes, claims);
    this.#inFlight = written.then(
      (stored) => {
        const result = unclaimed.length === 0 || stored === undefined ? stored : { ...stored, fenced: [...stored.fenced, ...unclaimed] };
        if (claims !== undefined && result !== undefined && (result.fenced.length > 0 || result.duplicates.length > 0)) claims.dropped(result);
        if (this.#queue.failure === undefined) batch.resolve();
        else batch.reject(this.#queue.failure);
      },
      (err: unknown) => batch.reject(this.#queue.failed(err)),
    );
    void this.#inFlight.then(() => {
      this.#inFlight = undefined;
      if (this.#next !== undefined) this.#schedule();
    });
  }
}

/** A change that only removes carried-out commands from the flow's inbox. */
const onlyConsumes = (c: FlowChange): boolean => c.consumed !== undefined && c.header === undefined && c.streams === undefined && c.headwaters === undefined;

function merge(into: FlowChange, c: FlowChange): void {
  if (c.create !== undefined) into.create = c.create;
  if (c.consumed !== undefined) into.consumed = [...(into.consumed ?? []), ...c.consumed];
  if (c.claimed) into.claimed = true;
  if (c.reopened) into.reopened = true;
  if (c.header !== undefined) into.header = c.header;
  if (c.streams !== undefined) into.streams = into.streams === undefined ? c.streams : Object.assign(into.streams, c.streams);
  if (c.headwaters !== undefined) {
    const hw = (into.headwaters ??= {});
    for (const scope of Object.keys(c.headwaters)) {
      const next = c.headwaters[scope]!;
      const held = hw[scope];
      if (held === undefined) {
        hw[scope] = next;
        continue;
      }
      for (const k of Object.keys(next.set)) held.set[k] = next.set[k]!;
      if (next.del.length > 0) {
        const deleted = new Set(next.del);
        for (const k of deleted) delete held.set[k];
        held.del = [...held.del.filter((k) => !(k in next.set) && !deleted.has(k)), ...deleted];
      } else if (held.del.length > 0) {
        held.del = held.del.filter((k) => !(k in next.set));
      }
    }
  }
}
