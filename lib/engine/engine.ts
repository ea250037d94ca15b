import type { Clock } from '../clock/clock.js';
import { SystemClock } from '../clock/system-clock.js';
import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import { describeValue } from '../model/describe-value.js';
import { createLogger, isLogger, type Logger } from '../logging/logger.js';
import { attachPort, portOf, provideDefaultEngine } from '../model/engine-port.js';
import { LevelStore } from '../store/level-store.js';
import { PostgresStore } from '../store/postgres-store.js';
import { isPostgresUrl } from '../store/postgres/options.js';
import { FlowStatus, isUnfinished, type FlowQuery } from '../store/records.js';
import { findStored, type Store } from '../store/store.js';
import { clearDefaultEngine, defaultEngine, setDefaultEngine } from './default-engine.js';
import { resolveEngineOptions, type EngineOptions, type ResolvedEngineOptions } from './engine-options.js';
import type { EngineEventName } from './events.js';
import { Admission, isPrepared, type Held } from './admission.js';
import { EventBus, type Listener } from './event-bus.js';
import { FlowRun, type FlowOutcome, type FlowRunHost } from '../model/flow-run.js';
import { nextFlow } from './transitions.js';
import { FlowRunner, Interrupted, type PreparedFlow, type RunnerHost } from './flow-runner.js';
import { PlanCache } from './plan-cache.js';
import { Poller } from './poller.js';
import { Registry, type RegistrableClass } from './registry.js';
import { outcomeOf, readSnapshot, summaryOf, type FlowSnapshot, type FlowSummary } from './snapshot.js';
import { WriteQueue } from './write-queue.js';
import { Commands } from './commands.js';
import { Starts } from './starts.js';
import type { EngineParts } from './engine-parts.js';
import { loadFlow, recoverUnfinished } from './recovery.js';
import { Worker, defaultWorkerId } from './worker.js';
import { RemoteOutcomes } from './remote-outcomes.js';
import type { Claim, StoredFlow, WorkerInfo, WriteResult } from '../store/records.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { startAdminServer, type AdminServer, type AdminServerOptions } from '../admin/admin-server.js';
import { EngineSource, type EnginePort } from '../admin/engine-source.js';
import { Retention, resolvePurgeQuery, type PurgeOptions } from './retention.js';

/** Lanes of the write queue on a store that supports concurrent writes (see WriteQueue). */
const WRITE_LANES = 2;
/** The store objects of the engines open in this process (see {@link Engine.open}). */
const HELD = new WeakSet<Store>();

/** The store the options name: a LevelDB directory, memory, a PostgreSQL URL, or the Store given. */
async function storeOf(o: ResolvedEngineOptions): Promise<Store> {
  if (typeof o.store !== 'string') return o.store;
  if (o.store === 'memory') return LevelStore.memory();
  if (isPostgresUrl(o.store)) {
    // its timeouts are the engine's: open() is told them
    return new PostgresStore({ connectionString: o.store });
  }
  return LevelStore.at(o.store, { sync: o.sync });
}

/**
 * Runs flows: owns the store, the logger, the registry of classes and the concurrency window.
 * @example
 * const engine = await Engine.open({ store: './data/flows', classes: [CreateVmRiver] });
 * const run = await new Andes(engine).drawStream(new CreateVmRiver()).start();
 * console.log((await run.result()).status);
 * await engine.close();
 */
export class Engine {
  readonly #store: Store;
  readonly #queue: WriteQueue;
  readonly #registry = new Registry();
  /** The plans of the drawings compiled here: flows drawn alike share one. */
  readonly #plans = new PlanCache();
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #options: ResolvedEngineOptions;
  readonly #host: RunnerHost;
  /** What the FlowRuns this engine hands out call. */
  readonly #runHost: FlowRunHost = { result: (id) => this.#result(id), cancel: (id, reason) => this.cancel(id, reason) };
  readonly #poller: Poller;
  readonly #runners = new Map<string, FlowRunner>();
  /** Outcomes awaited here of flows this engine runs or will run. */
  readonly #outcomes = new Map<string, Deferred<FlowOutcome>>();
  readonly #events: EventBus;
  /** The window and the queue: close() waits for the flows it is loading, so none starts after it. */
  readonly #admission: Admission;
  #state: 'open' | 'closing' | 'closed' = 'open';
  /** Set when a store write failed: the engine takes no more work (see #storeFailed). */
  #failure: VastflowError | undefined;
  /** Its heartbeat, claims and commands: this engine as one of the store's engines. */
  readonly #worker: Worker;
  /** Outcomes awaited here of flows another engine runs. */
  readonly #remote: RemoteOutcomes;
  /** Flows a claim read with an empty inbox (see Claim.inboxEmpty): loaded without reading it. */
  readonly #emptyInbox = new WeakSet<StoredFlow>();
  /** Its admin servers (serve()), closed with it. */
  readonly #admins = new Set<AdminServer>();
  /** The background purge of `retention`. */
  #retention: Retention | undefined;
  /** Cancel, redrive and send, and the commands other processes leave in the store. */
  readonly #commands: Commands;
  /** Creating flows, once per requestId. */
  readonly #starts: Starts;

  static {
    // a bare `new Andes()` finds the default engine through the model's port, without importing this module
    provideDefaultEngine(async () => portOf(await Engine.default()));
  }

  private constructor(options: ResolvedEngineOptions, store: Store, logger: Logger) {
    attachPort(this, {
      startFlow: (drawing) => this.#starts.start(drawing),
      classes: this.#registry,
      learn: (classes) => {
        for (const cls of classes) this.#registry.add(cls as RegistrableClass);
      },
    });
    this.#options = options;
    this.#store = store;
    this.#logger = logger;
    this.#events = new EventBus(logger);
    this.#admission = new Admission(
      options.concurrency,
      (id, held) => this.#claim(id, held),
      () => this.#takesWork(),
    );
    this.#clock = options.clock ?? new SystemClock();
    this.#worker = new Worker(
      {
        store,
        logger,
        now: () => this.#clock.now(),
        running: () => this.#runners.size,
        room: () => (this.#takesWork() ? this.#admission.room() : 0),
        classes: () => this.#registry.nameSet(),
        take: (claims) => this.#take(claims),
        lost: (ids) => this.#lost(ids),
        command: (c) => this.#commands.carryOut(c),
        tick: () => {
          void this.#remote.poll();
          void this.#commands.stored();
        },
        // closes the engine: the store is shared
        unavailable: (err) => this.#storeFailed(err),
      },
      {
        id: options.worker.id ?? defaultWorkerId(),
        leaseMs: options.worker.leaseTime,
        heartbeatMs: options.worker.heartbeat,
        reconnectForMs: options.worker.reconnectFor,
        listen: options.worker.listen,
        leaveForMs: options.closeTimeout,
      },
    );
    this.#remote = new RemoteOutcomes(store, logger);
    const claims = store.supports.shared
      ? {
          fence: (id: string) => this.#worker.fence(id),
          dropped: (result: WriteResult) => this.#dropped(result),
          retryForMs: options.worker.reconnectFor,
          retrying: (err: VastflowError, attempt: number) => {
            if (attempt === 1) logger.warn({ err }, `the database is unavailable: writes are tried again for up to ${options.worker.reconnectFor} ms`);
          },
        }
      : undefined;
    // two lanes let one fill while the other waits for the disk, on a store that takes concurrent writes
    this.#queue = new WriteQueue(store, store.supports.concurrentWrites === true ? WRITE_LANES : 1, (err) => this.#storeFailed(err), claims);
    const parts: EngineParts = {
      store,
      queue: this.#queue,
      registry: this.#registry,
      plans: this.#plans,
      admission: this.#admission,
      worker: this.#worker,
      clock: this.#clock,
      runHost: this.#runHost,
    };
    this.#starts = new Starts({
      ...parts,
      logger,
      assertOpen: (op) => this.#assertOpen(op),
      holds: (id) => this.#holds(id),
      launch: (flow) => this.#launch(flow),
    });
    this.#commands = new Commands({
      ...parts,
      remote: this.#remote,
      logger,
      runner: (id) => this.#runners.get(id),
      holds: (id) => this.#holds(id),
      takesWork: () => this.#takesWork(),
      client: options.concurrency === 0,
      launch: (flow) => this.#launch(flow),
      ready: (id, held) => this.#ready(id, held),
      nextSeq: () => this.#starts.nextSeq(),
    });
    for (const cls of options.classes) this.#registry.add(cls);
    const random = options.random ?? Math.random;
    this.#poller = new Poller(this.#clock);
    this.#host = {
      clock: this.#clock,
      poller: this.#poller,
      random,
      logger,
      graceMs: options.closeTimeout,
      push: (change) => this.#queue.push(change),
      listens: (event) => this.#events.listens(event),
      emit: (event, payload) => this.#events.emit(event, payload),
      settled: (runner, outcome, err) => this.#settled(runner, outcome, err),
      parked: (runner) => {
        // (a flow that resumed while the engine was closing ran without a slot: it has none to give)
        if (runner.slotless) return;
        runner.slotless = true;
        this.#admission.release();
        if (this.#store.supports.shared) this.#worker.poke('slot');
      },
      // a flow cancelled or failed while it held (ending) runs at once, past the window, as a cancelled waiting flow does
      resume: (runner, ending) =>
        this.#admission.resume((slotted) => {
          if (slotted) runner.slotless = false;
          runner.unparked();
        }, ending),
      whenClaimsSure: (go) => this.#worker.whenClaimsSure(go),
      claimsUnsure: () => this.#worker.claimsUnsure,
    };
  }

  /**
   * Opens an engine on its store and, unless `recover: false`, resumes the unfinished flows in it.
   * @throws VastflowError E_INVALID_ARGUMENT (bad options), E_STORE_LOCKED (another engine holds
   * the directory, or the store object), E_DUPLICATE_NAME (two classes under one name), E_STORE_UNAVAILABLE (LevelDB
   * cannot write to open it: a full disk), E_STORE_CORRUPT (LevelDB cannot open it for damage).
   */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const resolved = resolveEngineOptions(options);
    const logger = isLogger(resolved.logger) ? resolved.logger : createLogger(resolved.logger);
    // checked before the store is made: a LevelDB directory is locked as soon as its store exists
    const shared = typeof resolved.store === 'string' ? isPostgresUrl(resolved.store) : resolved.store.supports.shared === true;
    if (resolved.concurrency === 0 && !shared) {
      throw new VastflowError(
        'E_INVALID_ARGUMENT',
        'Engine.open: concurrency: 0 opens a client engine, which runs no flow: it needs a store other engines share (PostgreSQL); on this store no flow would ever run',
      );
    }
    const store = await storeOf(resolved);
    // one engine per store object: a second would run the first one's flows again beside it, and its
    // close() would close the store under the first
    if (HELD.has(store)) {
      throw new VastflowError(
        'E_STORE_LOCKED',
        'Engine.open: this store object is held by another open engine in this process; give each engine a store of its own (a LevelDB directory takes one engine; on PostgreSQL, a new PostgresStore for each)',
      );
    }
    HELD.add(store);
    if (resolved.sync && typeof resolved.store !== 'string') {
      logger.warn('sync: true applies to a LevelDB path; a Store object chooses its own durability, e.g. LevelStore.at(path, { sync: true })');
    } else if (resolved.sync && !store.supports.sync) {
      logger.warn('sync: true has no effect on the memory store');
    }
    try {
      // a statement unanswered for a lease is one the engine cannot wait for: its claims are gone by then
      await store.open({
        connectTimeoutMs: resolved.worker.connectTimeout,
        queryTimeoutMs: Math.max(resolved.worker.connectTimeout, resolved.worker.leaseTime),
      });
    } catch (err) {
      HELD.delete(store);
      throw err;
    }
    try {
      const engine = new Engine(resolved, store, logger);
      await engine.#worker.start();
      if (resolved.recover) {
        if (store.supports.shared) await engine.#worker.claimRoom();
        else await engine.#recover();
      }
      // in the background: open must not wait behind the recovered flows' first reads
      void engine.#commands.stored();
      if (resolved.retention !== undefined) {
        const ms = resolved.retention;
        engine.#retention = new Retention(ms, () => engine.purge({ before: engine.#clock.now() - ms }), logger.child({ component: 'retention' }));
        engine.#retention.start();
      }
      return engine;
    } catch (err) {
      HELD.delete(store);
      await store.close().catch(() => undefined); // never leave the directory locked behind a failed open
      throw err;
    }
  }

  /** The default engine a bare `new Andes()` uses, opened with default options on first use. */
  static default(): Promise<Engine> {
    return defaultEngine(() => Engine.open());
  }

  /** Replaces the default engine (for example with one on a configured store). */
  static setDefault(engine: Engine | undefined): void {
    setDefaultEngine(engine);
  }

  /** The engine's clock. */
  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Registers River, Fork or Atlantic classes (classes drawn in a started flow are registered too).
   * @throws VastflowError E_DUPLICATE_NAME when another class holds a name; E_INVALID_ARGUMENT for
   *   something that is not a River, Fork or Atlantic subclass, or an anonymous class with no `static riverName`.
   */
  register(...classes: RegistrableClass[]): this {
    let added = false;
    for (const cls of classes) added = this.#registry.add(cls) || added;
    // a redrive recorded for want of a class (engine.redrive here, the CLI) may now be carried out;
    // a class registered again (per request, say) reads nothing
    if (added) void this.#commands.stored();
    return this;
  }

  /** The registry: used by `Andes.fromJSON` to find classes by name. */
  get classes(): Registry {
    return this.#registry;
  }

  /**
   * Subscribes to an engine event. Every payload has flowId and requestId.
   * @throws VastflowError E_INVALID_ARGUMENT for an unknown event name or a listener that is no function.
   */
  on<E extends EngineEventName>(event: E, listener: Listener<E>): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Unsubscribes a listener added with {@link on}. */
  off<E extends EngineEventName>(event: E, listener: Listener<E>): this {
    this.#events.off(event, listener);
    return this;
  }

  /** False once the engine closes or its store has failed: it starts no more flows. */
  #takesWork(): boolean {
    return this.#state === 'open' && this.#failure === undefined;
  }

  /** True when this engine runs the flow, has it queued, or is loading it to run. */
  #holds(id: string): boolean {
    return this.#runners.has(id) || this.#admission.holds(id);
  }

  /** Runs a flow whose slot is taken. */
  #launch(flow: PreparedFlow): void {
    const runner = new FlowRunner(this.#host, flow);
    this.#runners.set(flow.header.id, runner);
    // a cancel its last engine did not carry out: the flow starts cancelled, no river runs again
    if (flow.cancels !== undefined) for (const c of flow.cancels) this.#commands.carryOut(c);
    runner.run();
  }

  /** A runner stopped: its flow ended (or failed to write), or the engine is closing. */
  #settled(runner: FlowRunner, outcome: FlowOutcome | undefined, err: unknown): void {
    const id = runner.id;
    this.#runners.delete(id);
    // stopped by close(): its last writes may still be queued, and a write without its claim is
    // dropped; close() flushes them, then gives every claim back
    if (!(err instanceof Interrupted && this.#state !== 'open')) this.#worker.disown(id);
    // a write that failed because the engine closed under an abandoned attempt: left for recovery
    const closing = this.#state !== 'open' && isVastflowError(err, 'E_CLOSED');
    if (!(err instanceof Interrupted) && !closing) {
      const d = this.#outcomes.get(id);
      this.#outcomes.delete(id);
      if (outcome !== undefined) d?.resolve(outcome);
      else if (this.#failure !== undefined)
        d?.reject(this.#failure); // logged once, by #storeFailed
      else {
        runner.log.error({ err }, 'flow stopped: the store failed; it resumes when the engine is opened again');
        d?.reject(err);
      }
    }
    // a parked flow that stopped (the engine closed, its claim was lost) held no slot
    if (!runner.slotless) this.#admission.release();
    // after the release: the claim it starts reads the room at once
    if (this.#store.supports.shared) this.#worker.poke('slot');
  }

  async #claim(id: string, held: Held | undefined): Promise<void> {
    try {
      const flow = await this.#ready(id, held);
      if (flow === undefined || !this.#takesWork()) {
        // not loadable, or the engine began closing (or its store failed) while it loaded: it stays for recovery
        this.#admission.release();
        // on a shared store, given back: another engine (or this one, once the store answers again) takes it
        if (this.#store.supports.shared && this.#worker.fence(id) !== undefined) {
          this.#worker.disown(id);
          void this.#store.release(this.#worker.id, [id]).catch(() => undefined);
        }
        return;
      }
      if (flow.header.status === 'waiting') {
        flow.header = nextFlow(flow.header, { type: 'claim', at: this.#clock.now() });
        void this.#queue.push({ flowId: id, header: flow.header, claimed: true });
      }
      this.#launch(flow);
    } catch (err) {
      this.#logger.error({ err, flowId: id }, 'could not start a waiting flow');
      this.#admission.release();
    }
  }

  /** Runs flows the worker claimed (their previous engine's lease ran out, or they wait or are due). */
  #take(claims: Claim[]): void {
    for (const c of claims) {
      if (this.#holds(c.flowId)) continue;
      if (c.inboxEmpty === true && c.flow !== undefined) this.#emptyInbox.add(c.flow);
      this.#admission.enqueue(c.flowId, c.flow);
    }
    this.#admission.drain();
  }

  /** Claims another engine took (this one was paused or cut off past its lease): stopped, unwritten. */
  #lost(ids: string[]): void {
    for (const id of ids) {
      const runner = this.#runners.get(id);
      this.#admission.dequeue(id);
      const d = this.#outcomes.get(id);
      if (d !== undefined) {
        // the engine that took it over reports its end through the store
        this.#outcomes.delete(id);
        this.#remote.await(id, d);
      }
      if (runner === undefined) continue;
      runner.log.warn('flow taken over by another engine (this engine missed its lease): stopped here, nothing more of it is written');
      runner.taken();
      runner.abandon();
    }
  }

  /** What a write dropped: fenced flows are lost; a duplicate create is resolved by its start. */
  #dropped(result: WriteResult): void {
    this.#starts.duplicates(result.duplicates);
    if (result.fenced.length > 0) {
      const lost = this.#commands.refused(result.fenced);
      for (const id of lost) this.#worker.disown(id);
      this.#lost(lost);
    }
  }

  /**
   * A flow ready to run from what the engine holds of it: its prepared form as it is, else rebuilt
   * from the record a claim read, else loaded from the store; undefined (an error logged) when it
   * cannot be.
   */
  async #ready(id: string, held: Held | undefined): Promise<PreparedFlow | undefined> {
    if (held !== undefined && isPrepared(held)) return held;
    return loadFlow(this.#store, this.#registry, this.#plans, this.#logger, id, held, held !== undefined && this.#emptyInbox.has(held));
  }

  /**
   * Resumes the store's unfinished flows within the concurrency window: the flows that were running
   * first, then the waiting ones in their FIFO order. Each is loaded when its turn comes.
   */
  async #recover(): Promise<void> {
    await recoverUnfinished(this.#store, this.#logger, this.#admission, (id) => this.#runners.has(id));
  }

  /**
   * A store write failed (a full disk, a lost database): nothing this engine writes from now on can
   * be trusted to land, so it takes no more work. Running flows are stopped as close() stops them,
   * but nothing of theirs is written; no flow is failed for it. Pending results reject with the
   * failure; an engine opened on the store once the cause is fixed resumes every flow.
   */
  #storeFailed(err: VastflowError): void {
    if (this.#state !== 'open' || this.#failure !== undefined) return;
    this.#failure = err.code === 'E_STORE_UNAVAILABLE' ? err : new VastflowError('E_STORE_UNAVAILABLE', err.message, { cause: err });
    const shared = this.#store.supports.shared;
    this.#logger.error(
      { err: this.#failure },
      shared
        ? 'the store failed a write (for worker.reconnectFor, if the database went away): the engine closes, and the engines left take its flows over'
        : 'the store failed a write: the engine takes no more work; close it, fix the cause (e.g. free disk space) and open the store again to resume every flow',
    );
    for (const r of this.#runners.values()) r.interrupt();
    this.#poller.clear();
    for (const d of this.#outcomes.values()) d.reject(this.#failure);
    this.#outcomes.clear();
    this.#admission.clear();
    // on a shared store an engine that stays open holds its flows by its heartbeats and runs none:
    // closed, it leaves them (or its lease runs out) for the others
    if (shared) void this.close().catch(() => undefined);
  }

  /**
   * The flow's snapshot, by its id or its requestId; undefined when the store holds no such flow.
   * @throws VastflowError E_INVALID_ARGUMENT when `idOrRequestId` is not a non-empty string.
   */
  async get(idOrRequestId: string): Promise<FlowSnapshot | undefined> {
    this.#assertOpen('get');
    if (typeof idOrRequestId !== 'string' || idOrRequestId === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `get: expected a flow id or requestId, got ${JSON.stringify(idOrRequestId)}`);
    }
    return readSnapshot(this.#store, idOrRequestId);
  }

  /**
   * Flows, newest first, optionally of one status.
   * @throws VastflowError E_INVALID_ARGUMENT for an unknown status or a bad limit.
   */
  async list(query: FlowQuery = {}): Promise<FlowSummary[]> {
    this.#assertOpen('list');
    if (typeof query !== 'object' || query === null) {
      throw new VastflowError(
        'E_INVALID_ARGUMENT',
        `list: expected a query object ({ status?, limit?, before? }), got ${query === null ? 'null' : typeof query}`,
      );
    }
    const unknown = Object.keys(query).filter((k) => k !== 'status' && k !== 'limit' && k !== 'before');
    if (unknown.length > 0) throw new VastflowError('E_INVALID_ARGUMENT', `list: unknown option ${unknown.join(', ')}; the options are status, limit, before`);
    if (query.before !== undefined && typeof query.before !== 'string') {
      throw new VastflowError('E_INVALID_ARGUMENT', `list: before must be a flow id (a string), got ${typeof query.before}`);
    }
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0)) {
      throw new VastflowError('E_INVALID_ARGUMENT', `list: limit must be an integer >= 0, got ${String(query.limit)}`);
    }
    const statuses: readonly string[] = Object.values(FlowStatus);
    if (query.status !== undefined && !statuses.includes(query.status)) {
      throw new VastflowError('E_INVALID_ARGUMENT', `list: unknown status ${JSON.stringify(query.status)}; the statuses are ${statuses.join(', ')}`);
    }
    return (await this.#store.listFlows(query)).map(summaryOf);
  }

  /** The outcome of a flow, once it has ended (FlowRun.result calls it). */
  async #result(id: string): Promise<FlowOutcome> {
    if (this.#failure !== undefined) throw this.#failure;
    let d = this.#outcomes.get(id);
    if (d === undefined) {
      d = deferred<FlowOutcome>(true);
      this.#outcomes.set(id, d);
    }
    if (this.#holds(id)) return d.promise;
    if (this.#remote.has(id)) {
      // awaited already (a cancel or redrive carried out elsewhere, a flow taken over): this too
      this.#outcomes.delete(id);
      this.#remote.await(id, d);
      return d.promise;
    }
    const stored = await this.#store.getFlow(id);
    if (stored === undefined) {
      this.#outcomes.delete(id);
      throw new VastflowError('E_INVALID_ARGUMENT', `result: no flow with id ${id}`);
    }
    const h = stored.header;
    if (!isUnfinished(h) && this.#outcomes.get(id) === d) {
      this.#outcomes.delete(id);
      d.resolve(outcomeOf(stored));
    } else if (this.#store.supports.shared && !this.#holds(id) && this.#outcomes.get(id) === d) {
      // another engine runs it (or will): its end shows in the store
      this.#outcomes.delete(id);
      this.#remote.await(id, d);
    }
    return d.promise;
  }

  /**
   * Cancels a flow: it stops (atomic rivers finish their branch), its status becomes `cancelled`
   * and Atlantic.fail runs with E_CANCELLED. Resolves once it has ended; a flow that already ended
   * is left as it is. Takes the flow's id or its requestId.
   * @throws VastflowError E_INVALID_ARGUMENT when there is no such flow, or the reason is not a string.
   */
  async cancel(id: string, reason = 'cancelled'): Promise<void> {
    this.#assertOpen('cancel');
    if (typeof reason !== 'string') throw new VastflowError('E_INVALID_ARGUMENT', `cancel: the reason must be a string, got ${describeValue(reason)}`);
    return this.#byRequestId(id, (flowId) => this.#commands.cancel(flowId, reason));
  }

  /**
   * Resumes a failed flow from the streams that failed; rivers that succeeded are not run again.
   * Takes the flow's id or its requestId.
   * An engine that lacks the flow's classes (a client engine, or an engine that no longer
   * registers one) records the redrive for one that has them, and logs a warning naming the class:
   * on PostgreSQL any engine with room that has them; on LevelDB this engine once
   * {@link register} gives it them, or this store's next engine that registers them.
   * @throws VastflowError E_INVALID_ARGUMENT when there is no such flow; E_CONFLICT when it has not
   * failed (it runs, waits, succeeded or was cancelled), its compensations ran, or it is being
   * redriven already (by another call here, or by another engine at the same moment).
   */
  async redrive(id: string): Promise<FlowRun> {
    this.#assertOpen('redrive');
    return this.#byRequestId(id, (flowId) => this.#commands.redrive(flowId));
  }

  /**
   * `command` of the flow with this id, else (there is none: E_INVALID_ARGUMENT) of the flow
   * started with it as its requestId, as send() and get() take either. The id is tried first: the
   * usual call pays no lookup.
   */
  async #byRequestId<T>(idOrRequestId: string, command: (id: string) => Promise<T>): Promise<T> {
    try {
      return await command(idOrRequestId);
    } catch (err) {
      this.#writeFailed(err);
      if (!isVastflowError(err, 'E_INVALID_ARGUMENT') || typeof idOrRequestId !== 'string' || idOrRequestId === '') throw err;
      const id = await this.#store.findFlowId(idOrRequestId).catch(() => undefined);
      if (id === undefined || id === idOrRequestId) throw err;
      return command(id);
    }
  }

  /**
   * Sends a message to a flow: it is stored in the flow's inbox before this resolves, and the
   * flow's next Dam of that name takes it (at once if one holds; a message sent before the flow
   * reaches its Dam waits there). Works from any engine on the store.
   * @example
   * await engine.send(flowId, 'approval', { ok: true, by: 'alice' });
   * @throws VastflowError E_INVALID_ARGUMENT (no id, or an empty name), E_NOT_SERIALIZABLE (the
   * payload is not JSON), E_NOT_FOUND (no such flow), E_CONFLICT (the flow has ended).
   */
  async send(idOrRequestId: string, name: string, payload: unknown = null): Promise<void> {
    this.#assertOpen('send');
    try {
      return await this.#commands.send(idOrRequestId, name, payload);
    } catch (err) {
      this.#writeFailed(err);
      throw err;
    }
  }

  /**
   * A command's own write (a message, a recorded cancel or redrive) failed: on a store with one
   * engine that failure is final (a full disk), and the engine fails as it does for its other
   * writes; on a shared store it may be the database away for a moment, which the worker rides out.
   */
  #writeFailed(err: unknown): void {
    if (!this.#store.supports.shared && isVastflowError(err, 'E_STORE_UNAVAILABLE')) this.#storeFailed(err);
  }

  /**
   * The engines alive on the store, with when each last renewed its claims and how many flows it
   * runs. On LevelDB and memory: this engine only.
   */
  async workers(): Promise<Array<{ id: string; heartbeatAt: number; running: number }>> {
    this.#assertOpen('workers');
    const live: WorkerInfo[] = await this.#worker.workers();
    return live.map((w) => (w.id === this.#worker.id ? { ...w, running: this.#runners.size } : w));
  }

  /**
   * Stops taking work, lets running attempts settle (up to `closeTimeout`), writes what they
   * recorded and closes the store. Unfinished flows resume when an engine opens the store again.
   */
  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    await Promise.all([...this.#admins].map((a) => a.close()));
    await this.#retention?.stop();
    // flows being loaded to run see the closing state and stay in the store
    await this.#admission.loaded();
    const running = [...this.#runners.values()];
    const settled = Promise.all(running.map((r) => r.done()));
    for (const r of running) r.interrupt();
    this.#poller.clear();
    // parked flows due and waiting for a slot stop now, without one
    this.#admission.clear();
    const grace = new AbortController();
    await Promise.race([settled, new SystemClock().sleep(this.#options.closeTimeout, grace.signal).catch(() => {})]);
    grace.abort();
    // attempts still running past the grace are abandoned: their writes never reach the store
    for (const r of running) r.abandon();
    await this.#queue.flush();
    const closed = new VastflowError('E_CLOSED', 'the engine closed before the flow ended; it resumes when an engine opens the store again');
    for (const d of this.#outcomes.values()) d.reject(closed);
    this.#outcomes.clear();
    this.#remote.clear(closed);
    this.#admission.clear();
    await this.#worker.stop();
    await this.#store.close();
    HELD.delete(this.#store);
    this.#state = 'closed';
    clearDefaultEngine(this);
  }

  #assertOpen(op: string): void {
    if (this.#state !== 'open') throw new VastflowError('E_CLOSED', `${op}: the engine is closed`);
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Serves the admin API and the web UI over this engine (see docs/operators.md); `close()` of the
   * engine closes it too.
   * @example
   * const admin = await engine.serve({ port: 7411, token: process.env.VF_TOKEN });
   * console.log(admin.url);
   * @throws VastflowError E_INVALID_ARGUMENT for bad options or a port it cannot listen on.
   */
  async serve(options: AdminServerOptions = {}): Promise<AdminServer> {
    this.#assertOpen('serve');
    const port: EnginePort = {
      get: (id) => this.get(id),
      list: (q) => this.list(q),
      cancel: (id, reason) => this.cancel(id, reason),
      redrive: (id) => this.redrive(id),
      send: (id, name, payload) => this.send(id, name, payload),
      workers: () => this.workers(),
      purge: (q) => this.purge(q),
      on: (name, l) => this.#events.on(name as EngineEventName, l as unknown as Listener<EngineEventName>),
      off: (name, l) => this.#events.off(name as EngineEventName, l as unknown as Listener<EngineEventName>),
      store: this.#store,
      logger: this.#logger,
    };
    const source = new EngineSource(port);
    const server = await startAdminServer(source, options, this.#logger);
    if (this.#state !== 'open') {
      // close() ran while the server started: it closed the servers it knew, not this one
      source.close();
      await server.close();
      throw new VastflowError('E_CLOSED', 'serve: the engine was closed while the server started');
    }
    const admin: AdminServer = {
      url: server.url,
      close: async () => {
        this.#admins.delete(admin);
        source.close();
        await server.close();
      },
    };
    this.#admins.add(admin);
    return admin;
  }

  /**
   * Deletes the ended flows (finished, their Atlantic hook run) last updated before `before`, with
   * all their records; never an unfinished one. Resolves with the number deleted.
   * @throws VastflowError E_INVALID_ARGUMENT naming the field (`before`: ms since the epoch or a
   * Date; `status`: success, fail or cancelled), or when the store cannot purge.
   */
  async purge(options: PurgeOptions): Promise<number> {
    this.#assertOpen('purge');
    const query = resolvePurgeQuery(options);
    const store = this.#store;
    if (store.purge === undefined) throw new VastflowError('E_INVALID_ARGUMENT', 'purge: this store cannot purge flows');
    return this.#commands.exclusive(() => store.purge!(query));
  }
}
