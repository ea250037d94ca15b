import type { Logger } from '../logging/logger.js';
import { isFinal, type FlowStatus } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { AdminEventListener } from './admin-source.js';

/** Changes read per page of the feed. */
const PAGE = 500;
/** Flows whose last status is remembered, to tell a change from one already reported. */
const REMEMBERED = 10_000;

/**
 * Events rebuilt from a store's change feed (`supports.changes`: PostgreSQL), for flows that other
 * engines run: `flow:start` when a flow runs, `flow:waiting` when it waits, `flow:end` when it
 * ends, each `{ flowId, requestId, status, updatedAt, source: 'store' }` (flow:end adds `error`).
 * The feed reads from its end at the first subscriber, every `intervalMs` while one listens.
 */
export class ChangeFeedEvents {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #listeners = new Set<AdminEventListener>();
  /** Each flow's last status reported, by this feed or by the engine's own events. */
  readonly #last = new Map<string, FlowStatus>();
  #cursor: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #started: Promise<void> | undefined;

  constructor(store: Store, logger: Logger, intervalMs = 500) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** True when the store has a change feed to read. */
  get available(): boolean {
    return this.#store.supports.changes === true && typeof this.#store.changes === 'function';
  }

  /** The engine reported this status itself (its own event): the feed does not report it again. */
  note(flowId: string, status: FlowStatus): void {
    this.#last.delete(flowId);
    this.#last.set(flowId, status);
    if (this.#last.size > REMEMBERED) this.#last.delete(this.#last.keys().next().value!);
  }

  subscribe(listener: AdminEventListener): () => void {
    if (!this.available) return () => undefined;
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#started ??= this.#skipToEnd();
      this.#timer = setInterval(() => void this.poll(), this.#intervalMs);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the changes since the last poll and reports them. */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #skipToEnd(): Promise<void> {
    try {
      for (;;) {
        const page = await this.#store.changes!(this.#cursor, PAGE);
        this.#cursor = page.cursor;
        for (const e of page.entries) this.note(e.flowId, e.status);
        if (page.entries.length < PAGE) return;
      }
    } catch (err) {
      this.#logger.warn({ err }, 'admin: could not read the change feed; trying again');
      this.#started = undefined;
    }
  }

  async #poll(): Promise<void> {
    await (this.#started ??= this.#skipToEnd());
    if (this.#listeners.size === 0) return;
    try {
      for (;;) {
        const page = await this.#store.changes!(this.#cursor, PAGE);
        this.#cursor = page.cursor;
        for (const e of page.entries) {
          if (this.#last.get(e.flowId) === e.status) continue;
          this.note(e.flowId, e.status);
          const header = (await this.#store.getFlow(e.flowId).catch(() => undefined))?.header;
          if (header === undefined) continue; // purged meanwhile
          const name = isFinal(e.status) ? 'flow:end' : e.status === 'running' ? 'flow:start' : 'flow:waiting';
          const payload: Record<string, unknown> = { flowId: e.flowId, requestId: header.requestId, status: e.status, updatedAt: e.updatedAt, source: 'store' };
          if (isFinal(e.status) && header.error !== undefined) payload['error'] = header.error;
          for (const l of this.#listeners) l(name, payload);
        }
        if (page.entries.length < PAGE) return;
      }
    } catch (err) {
      this.#logger.warn({ err }, 'admin: could not read the change feed; trying again');
    }
  }
}
