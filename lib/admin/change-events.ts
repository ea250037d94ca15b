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
 * The feed reads from its end at the first subscriber, every `intervalMs` while one listens; a
 * subscriber after a time with none hears what changes from then on.
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
      // from the feed's end (after a poll still under way): what changed while no one listened is
      // not news to this listener
      const polling = this.#polling;
      this.#started ??= polling === undefined ? this.#skipToEnd() : polling.then(() => this.#skipToEnd());
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
    // the next first listener skips what changes until it comes (from the cursor: only those)
    this.#started = undefined;
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

  #emit(name: string, payload: Record<string, unknown>): void {
    for (const l of this.#listeners) l(name, payload);
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
          const before = this.#last.get(e.flowId);
          this.note(e.flowId, e.status);
          const stored = await this.#store.getFlow(e.flowId).catch(() => undefined);
          if (stored === undefined) continue; // purged meanwhile
          const { header } = stored;
          const payload = (status: FlowStatus): Record<string, unknown> => ({
            flowId: e.flowId,
            requestId: header.requestId,
            status,
            updatedAt: e.updatedAt,
            source: 'store',
          });
          if (!isFinal(e.status)) {
            this.#emit(e.status === 'running' ? 'flow:start' : 'flow:waiting', payload(e.status));
            continue;
          }
          // it ran and ended between two reads of the feed: its start is reported before its end
          if (before !== 'running' && Object.values(stored.streams).some((r) => r.startedAt !== undefined)) this.#emit('flow:start', payload('running'));
          const end = payload(e.status);
          if (header.error !== undefined) end['error'] = header.error;
          this.#emit('flow:end', end);
        }
        if (page.entries.length < PAGE) return;
      }
    } catch (err) {
      this.#logger.warn({ err }, 'admin: could not read the change feed; trying again');
    }
  }
}
