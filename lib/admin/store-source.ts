import { compensationsRan } from '../engine/compensation.js';
import type { Clock } from '../clock/clock.js';
import { SystemClock } from '../clock/system-clock.js';
import { readSnapshot, summaryOf, type FlowSnapshot, type FlowSummary } from '../engine/snapshot.js';
import { VastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import type { Json } from '../model/json.js';
import { isFinal, type FlowStatus, type StoredFlow, type WorkerInfo } from '../store/records.js';
import { findStored, recordRedrive, type Store } from '../store/store.js';
import { notFound, type AdminEventListener, type AdminListQuery, type AdminSource } from './admin-source.js';
import { ChangeFeedEvents } from './change-events.js';
import { frozenJsonCopy } from '../model/json.js';

export const emptyMessageName = (): VastflowError => new VastflowError('E_INVALID_ARGUMENT', 'send: the message name must be a non-empty string');

/**
 * The flows of a store opened directly, without an engine (the CLI, `vastflow ui`): it reads with
 * the Store API and records cancel, redrive and send as commands in the flow's inbox, for the
 * engine that runs the flow to carry out. It runs no flow and holds none of the user's classes.
 */
export class StoreSource implements AdminSource {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #feed: ChangeFeedEvents;

  constructor(store: Store, logger: Logger, clock: Clock = new SystemClock()) {
    this.#store = store;
    this.#clock = clock;
    this.#feed = new ChangeFeedEvents(store, logger);
  }

  async list(query: AdminListQuery): Promise<FlowSummary[]> {
    return (await this.#store.listFlows(query)).map(summaryOf);
  }

  async get(idOrRequestId: string): Promise<FlowSnapshot | undefined> {
    return readSnapshot(this.#store, idOrRequestId);
  }

  async #flow(idOrRequestId: string): Promise<StoredFlow> {
    const stored = await findStored(this.#store, idOrRequestId);
    if (stored === undefined) throw notFound(idOrRequestId);
    return stored;
  }

  async cancel(idOrRequestId: string, reason?: string): Promise<{ id: string; status: FlowStatus }> {
    const { header } = await this.#flow(idOrRequestId);
    if (isFinal(header.status)) return { id: header.id, status: header.status }; // an ended flow stays as it is
    await this.#add(header.id, reason === undefined ? { kind: 'cancel' } : { kind: 'cancel', reason });
    return { id: header.id, status: header.status };
  }

  async redrive(idOrRequestId: string): Promise<{ id: string; recorded: boolean }> {
    const { header, streams } = await this.#flow(idOrRequestId);
    if (header.status !== 'fail') throw new VastflowError('E_CONFLICT', `redrive: only a failed flow can be redriven; flow ${header.id} is ${header.status}`);
    // as engine.redrive answers: the engine would drop the command
    if (compensationsRan(streams))
      throw new VastflowError('E_CONFLICT', `redrive: flow ${header.id} was compensated (its compensations ran); start a new flow instead`);
    if (!(await recordRedrive(this.#store, header.id, this.#clock.now()))) throw notFound(header.id); // purged meanwhile
    return { id: header.id, recorded: true };
  }

  async send(idOrRequestId: string, name: string, payload: Json): Promise<{ id: string }> {
    if (typeof name !== 'string' || name === '') throw emptyMessageName();
    // checked as engine.send checks it: a payload the headwaters would refuse must not reach the inbox
    const body = frozenJsonCopy(payload, `send: the payload of message "${name}"`);
    const { header } = await this.#flow(idOrRequestId);
    if (isFinal(header.status)) throw new VastflowError('E_CONFLICT', `send: flow ${header.id} has ended (${header.status}): no Dam will take the message`);
    await this.#add(header.id, { kind: 'message', name, payload: body });
    return { id: header.id };
  }

  async #add(id: string, body: Parameters<Store['addCommand']>[1]): Promise<void> {
    const added = await this.#store.addCommand(id, body, this.#clock.now());
    if (added === undefined) throw notFound(id); // purged meanwhile
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#store.workers(this.#clock.now());
  }

  async purge(query: { before: number; status?: 'success' | 'fail' | 'cancelled' }): Promise<number> {
    if (this.#store.purge === undefined) throw new VastflowError('E_INVALID_ARGUMENT', 'purge: this store cannot purge flows');
    return this.#store.purge(query);
  }

  subscribe(listener: AdminEventListener): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Stops reading the change feed. */
  close(): void {
    this.#feed.stop();
  }
}
