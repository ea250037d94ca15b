import type { FlowSnapshot, FlowSummary } from '../engine/snapshot.js';
import type { Logger } from '../logging/logger.js';
import type { Json } from '../model/json.js';
import { isFinal, type FlowQuery, type FlowStatus, type PurgeQuery, type WorkerInfo } from '../store/records.js';
import type { Store } from '../store/store.js';
import { ENGINE_EVENT_NAMES, type AdminEventListener, type AdminListQuery, type AdminSource } from './admin-source.js';
import { ChangeFeedEvents } from './change-events.js';
import { notFound } from './admin-source.js';

/** How long a cancel request waits for the flow to end before it answers (the cancel goes on). */
const CANCEL_WAIT_MS = 2_000;

/** What the admin server needs of an engine: its public methods, and its events by name. */
export interface EnginePort {
  get(idOrRequestId: string): Promise<FlowSnapshot | undefined>;
  list(query: FlowQuery): Promise<FlowSummary[]>;
  cancel(id: string, reason?: string): Promise<void>;
  redrive(id: string): Promise<unknown>;
  send(idOrRequestId: string, name: string, payload?: Json): Promise<void>;
  workers(): Promise<WorkerInfo[]>;
  purge(query: PurgeQuery): Promise<number>;
  on(name: string, listener: (payload: Record<string, unknown>) => void): void;
  off(name: string, listener: (payload: Record<string, unknown>) => void): void;
  readonly store: Store;
  readonly logger: Logger;
}

/** The admin source of a running engine: it carries commands out itself. */
export class EngineSource implements AdminSource {
  readonly #engine: EnginePort;
  readonly #feed: ChangeFeedEvents;

  constructor(engine: EnginePort) {
    this.#engine = engine;
    this.#feed = new ChangeFeedEvents(engine.store, engine.logger);
  }

  list(query: AdminListQuery): Promise<FlowSummary[]> {
    return this.#engine.list(query);
  }

  get(idOrRequestId: string): Promise<FlowSnapshot | undefined> {
    return this.#engine.get(idOrRequestId);
  }

  async #snapshot(idOrRequestId: string): Promise<FlowSnapshot> {
    const snap = await this.#engine.get(idOrRequestId);
    if (snap === undefined) throw notFound(idOrRequestId);
    return snap;
  }

  async cancel(idOrRequestId: string, reason?: string): Promise<{ id: string; status: FlowStatus }> {
    const snap = await this.#snapshot(idOrRequestId);
    if (isFinal(snap.status)) return { id: snap.id, status: snap.status };
    const cancelled = this.#engine.cancel(snap.id, reason);
    // a flow whose atomic rivers must finish may take long to end: answer once it is under way
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_WAIT_MS)));
    try {
      await Promise.race([cancelled, waited]);
    } finally {
      clearTimeout(timer);
    }
    cancelled.catch((err: unknown) => this.#engine.logger.warn({ err, flowId: snap.id }, 'admin: the cancel failed'));
    // from the store: the engine may be closing meanwhile (it answers nothing then), the store is open
    // until the servers have answered
    const after = await this.#engine.store.getFlow(snap.id).catch(() => undefined);
    return { id: snap.id, status: after?.header.status ?? snap.status };
  }

  async redrive(idOrRequestId: string): Promise<{ id: string; recorded: boolean }> {
    const snap = await this.#snapshot(idOrRequestId);
    // an engine without the flow's classes (a client engine) records it for one that has them:
    // the flow's header is then as it was
    await this.#engine.redrive(snap.id);
    const after = await this.#engine.get(snap.id);
    return { id: snap.id, recorded: after !== undefined && after.status === 'fail' && after.updatedAt === snap.updatedAt };
  }

  async send(idOrRequestId: string, name: string, payload: Json): Promise<{ id: string }> {
    const snap = await this.#snapshot(idOrRequestId);
    await this.#engine.send(snap.id, name, payload);
    return { id: snap.id };
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#engine.workers();
  }

  purge(query: PurgeQuery): Promise<number> {
    return this.#engine.purge(query);
  }

  subscribe(listener: AdminEventListener): () => void {
    const bound = ENGINE_EVENT_NAMES.map((name) => {
      const l = (payload: Record<string, unknown>): void => {
        if (name === 'flow:start') this.#feed.note(String(payload['flowId']), 'running');
        if (name === 'flow:end') this.#feed.note(String(payload['flowId']), payload['status'] as FlowStatus);
        listener(name, payload);
      };
      this.#engine.on(name, l);
      return [name, l] as const;
    });
    const stopFeed = this.#feed.subscribe(listener);
    return () => {
      for (const [name, l] of bound) this.#engine.off(name, l);
      stopFeed();
    };
  }

  /** Stops reading the change feed. */
  close(): void {
    this.#feed.stop();
  }
}
