import { VastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import type { FlowOutcome } from '../model/flow-run.js';
import { isUnfinished, type FlowHeader, type StoredFlow } from '../store/records.js';
import { outcomeOf } from './snapshot.js';
import type { Store } from '../store/store.js';
import type { Deferred } from '../util/deferred.js';

/** Flows read one by one per poll, at most, from a store that cannot read many at once. */
const PER_POLL = 200;
/** Flows asked about in one call of a store's getEnded. */
const PER_CALL = 1000;
/** Every this many polls, the awaited flows getEnded did not return are looked for: purged ones. */
const GONE_EVERY = 25;
/** Flows looked for, at most, in one such look. */
const GONE_PER_LOOK = 50;

/**
 * Outcomes awaited in this engine of flows that another engine on a shared store runs (a client
 * engine's starts, a flow taken over, a cancel carried out elsewhere): the store is read every
 * `intervalMs` while any is awaited, and each resolves once its flow has ended.
 */
export class RemoteOutcomes {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #awaited = new Map<string, Deferred<FlowOutcome>>();
  /** For a flow redriven elsewhere: its header as it ended before, an end that does not count. */
  readonly #before = new Map<string, FlowHeader>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  /** Where the next poll of a store without getEnded begins, in the awaited flows. */
  #next = 0;
  /** Polls since the last look for purged flows, and where the next look begins. */
  #sinceLook = 0;
  #nextLook = 0;

  constructor(store: Store, logger: Logger, intervalMs = 20) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /**
   * Resolves `d` with the flow's outcome once it has ended in whichever engine runs it; given
   * `before` (the header of the end a redrive left for another engine reopens), once it has ended
   * again.
   */
  await(id: string, d: Deferred<FlowOutcome>, before?: FlowHeader): void {
    if (before !== undefined) this.#before.set(id, before);
    const held = this.#awaited.get(id);
    if (held !== undefined && held !== d) void held.promise.then(d.resolve, d.reject);
    else this.#awaited.set(id, d);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.poll(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** True while the flow's outcome is awaited here. */
  has(id: string): boolean {
    return this.#awaited.has(id);
  }

  /**
   * Reads the awaited flows and resolves the ended ones: every awaited flow, a thousand a call, on a
   * store that reads ended flows at once (getEnded); else a bounded number, in turn.
   */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    try {
      if (this.#store.getEnded !== undefined) await this.#pollEnded(this.#store.getEnded.bind(this.#store));
      else await this.#pollEach();
    } catch (err) {
      this.#logger.warn({ err }, 'could not read the outcomes of flows another engine runs; trying again');
      return;
    }
    if (this.#awaited.size === 0) this.#stop();
  }

  async #pollEnded(getEnded: (ids: readonly string[]) => Promise<StoredFlow[]>): Promise<void> {
    const ids = [...this.#awaited.keys()];
    for (let i = 0; i < ids.length; i += PER_CALL) {
      for (const stored of await getEnded(ids.slice(i, i + PER_CALL))) this.#resolve(stored);
    }
    // a flow purged right after it ended is never among the ended ones: looked for now and then
    if (++this.#sinceLook < GONE_EVERY || this.#awaited.size === 0) return;
    this.#sinceLook = 0;
    this.#nextLook = await this.#readInTurn(this.#nextLook, GONE_PER_LOOK);
  }

  /** The flow is no longer in the store (purged): its outcome cannot be read. */
  #gone(id: string): void {
    const d = this.#awaited.get(id);
    if (d === undefined) return;
    this.#awaited.delete(id);
    this.#before.delete(id);
    // as result() of a flow no longer there answers
    d.reject(new VastflowError('E_INVALID_ARGUMENT', `result: no flow with id ${id} (it was purged before its outcome was read)`));
  }

  // a bounded number a poll, in turn: the next poll goes on where this one stopped, so that a flow
  // awaited behind many that still run is read too
  async #pollEach(): Promise<void> {
    this.#next = await this.#readInTurn(this.#next, PER_POLL);
  }

  /**
   * Reads up to `max` awaited flows one by one, from `at` on (in turn, round the list): resolves the
   * ended ones, rejects the ones no longer there; returns where the next read goes on.
   */
  async #readInTurn(at: number, max: number): Promise<number> {
    const ids = [...this.#awaited.keys()];
    if (ids.length === 0) return 0;
    const from = at % ids.length;
    const n = Math.min(max, ids.length);
    for (let k = 0; k < n; k++) {
      const id = ids[(from + k) % ids.length]!;
      const stored = await this.#store.getFlow(id);
      if (stored === undefined) this.#gone(id);
      else if (!isUnfinished(stored.header)) this.#resolve(stored);
    }
    return from + n;
  }

  #resolve(stored: StoredFlow): void {
    const h = stored.header;
    const d = this.#awaited.get(h.id);
    const before = this.#before.get(h.id);
    if (d === undefined || (before !== undefined && before.seq === h.seq && before.updatedAt === h.updatedAt)) return;
    this.#awaited.delete(h.id);
    this.#before.delete(h.id);
    d.resolve(outcomeOf(stored));
  }

  /** Rejects every awaited outcome (the engine closes). */
  clear(err: Error): void {
    for (const d of this.#awaited.values()) d.reject(err);
    this.#awaited.clear();
    this.#before.clear();
    this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
