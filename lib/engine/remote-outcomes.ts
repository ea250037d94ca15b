import type { Logger } from '../logging/logger.js';
import type { FlowOutcome } from '../model/flow-run.js';
import { isUnfinished } from '../store/records.js';
import { outcomeOf } from './snapshot.js';
import type { Store } from '../store/store.js';
import type { Deferred } from '../util/deferred.js';

/** Flows read per poll, at most. */
const PER_POLL = 200;

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
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(store: Store, logger: Logger, intervalMs = 20) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Resolves `d` with the flow's outcome once it has ended in whichever engine runs it. */
  await(id: string, d: Deferred<FlowOutcome>): void {
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

  /** Reads the awaited flows (the oldest awaited first, a bounded number) and resolves the ended ones. */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    const ids = [...this.#awaited.keys()].slice(0, PER_POLL);
    for (const id of ids) {
      let stored;
      try {
        stored = await this.#store.getFlow(id);
      } catch (err) {
        this.#logger.warn({ err, flowId: id }, 'could not read the outcome of a flow another engine runs; trying again');
        return;
      }
      const d = this.#awaited.get(id);
      if (d === undefined) continue;
      if (stored === undefined || isUnfinished(stored.header)) continue;
      this.#awaited.delete(id);
      d.resolve(outcomeOf(stored));
    }
    if (this.#awaited.size === 0) this.#stop();
  }

  /** Rejects every awaited outcome (the engine closes). */
  clear(err: Error): void {
    for (const d of this.#awaited.values()) d.reject(err);
    this.#awaited.clear();
    this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
