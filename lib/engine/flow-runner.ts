import type { Clock } from '../clock/clock.js';
import { SystemClock } from '../clock/system-clock.js';
import { toError, type FlowError } from '../errors/flow-error.js';
import { VastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import { Atlantic } from '../model/atlantic.js';
import { internals, type Headwaters, type SignalSource } from '../model/headwaters.js';
import type { JsonObject } from '../model/json.js';
import type { FlowChange, FlowHeader, HeadwatersChange, StoredCommand, StreamRecord } from '../store/records.js';
import type { EngineEventName, EngineEvents } from './events.js';
import { descendants, forkAt, type BasinNode, type DamNode, type ForkNode, type Instances, type ParallelNode, type Plan, type PlanNode } from './plan.js';
import type { Poller, Wait } from './poller.js';
import { deferred, type Deferred } from '../util/deferred.js';
import type { FlowOutcome } from '../model/flow-run.js';
import { runRiver } from './river-step.js';
import { nextFlow, nextStream, type FlowEvent, type StreamEvent } from './transitions.js';
import type { Call } from './call.js';
import type { Branch, Scope, StepPort } from './runner-port.js';
import { compensate, holdsCompensable } from './compensation.js';

/** What a runner needs from its engine. */
export interface RunnerHost {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** How long a call that the flow stopped (cancel, failure) may run on before it is abandoned, in real ms. */
  readonly graceMs: number;
  /** Where the flow's retry and poll waits park. */
  readonly poller: Poller;
  push(change: FlowChange): Promise<void>;
  /** True when someone listens to `event`: payloads are built only then. */
  listens(event: EngineEventName): boolean;
  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void;
  /** Called once when the runner stops: with the outcome when the flow ended, else with the error (Interrupted when the engine closed). */
  settled(runner: FlowRunner, outcome: FlowOutcome | undefined, error?: unknown): void;
  /**
   * The flow parked with every waiting river held at a Dam: it gives its place in the concurrency
   * window back until it runs again (a flow in a retry wait or between polls keeps its place).
   */
  parked(runner: FlowRunner): void;
  /**
   * The flow that gave its place back is due or has its message: the host calls its `unparked()`
   * once it has a place again (at once when the window has room, or when the engine closes). A
   * flow that is `ending` (cancelled or failed while it held) takes one past the window at once,
   * as a cancelled waiting flow does.
   */
  resume(runner: FlowRunner, ending: boolean): void;
  /**
   * Runs `go` at once while this engine's claims are sure; after it went unheard for most of its
   * lease (the process was paused or starved), once a heartbeat has told which it still holds: a
   * flow another engine took meanwhile is stopped first, so its wait ends without a call.
   */
  whenClaimsSure(go: () => void): void;
  /** True while this engine's claims are not sure (no heartbeat landed for most of the lease). */
  claimsUnsure(): boolean;
}

/** A flow loaded and ready to run: fresh from `start()`, or rebuilt from the store. */
export interface PreparedFlow {
  header: FlowHeader;
  /** The compiled drawing, shared with the flows drawn alike. */
  plan: Plan;
  /** The flow's own River and Fork objects, by node index. */
  instances: Instances;
  /** Each stream's record, in the order of `plan.nodes` (a node's `index`). */
  records: StreamRecord[];
  hw: Headwaters<any>;
  /** Basin scopes read back from the store, by basin id; undefined when there are none. */
  scopes: Record<string, JsonObject> | undefined;
  atlantic: Atlantic;
  /** Messages in the flow's inbox not yet consumed (a flow with Dams, read back from the store). */
  messages?: StoredCommand[];
  /** Cancels in the flow's inbox not yet carried out (left for an engine that ran the flow): the engine carries them out before the flow runs. */
  cancels?: StoredCommand[];
}

/** Thrown through a runner when the engine closes: the flow is left for recovery. */
export class Interrupted extends Error {
  constructor() {
    super('the engine is closing');
    this.name = 'Interrupted';
  }
}

/**
 * Thrown by the rivers of a flow that all wait for their next attempt or poll: the flow unwinds its
 * whole stack, waits as one RunnerWait in the Poller until the earliest is due, then runs again
 * from its records (as recovery would; a river the flow stopped meanwhile ends there). Not an
 * Error: no stack trace is captured.
 */
class Parked {
  /** @param dam true when every river that waits is held at a Dam (see RunnerHost.parked) */
  constructor(
    readonly due: number,
    readonly dam: boolean,
  ) {}
}

/** `flags` with `flag` set or cleared. */
const flagged = (flags: number, flag: number, on: boolean): number => (on ? flags | flag : flags & ~flag);

const DONE = 1;
const PARKABLE = 2;
const DAM = 4;
const ATOMIC = 8;

/**
 * A wait of one flow in the poller: a small object that knows what follows it, rather than
 * closures; its four flags share one field, as every parked flow keeps one (and it has no private
 * method, which would cost each one a field more).
 */
class RunnerWait implements Wait {
  seq = 0;
  /** DONE, PARKABLE, DAM and ATOMIC. */
  #flags: number;
  /** Neighbours in the runner's list of waits. */
  before: RunnerWait | undefined;
  after: RunnerWait | undefined;
  /** Set when the sleep is ended to park the whole flow: it rejects with Parked instead of resolving. */
  unwind: ((parked: Parked) => void) | undefined;
  constructor(
    readonly due: number,
    readonly runner: FlowRunner,
    atomic: boolean,
    /** What follows: resolving a river's sleep; undefined for the wait of a parked flow, which runs it again. */
    public next: (() => void) | undefined,
  ) {
    this.#flags = atomic ? ATOMIC : 0;
  }

  get done(): boolean {
    return (this.#flags & DONE) !== 0;
  }
  set done(on: boolean) {
    this.#flags = flagged(this.#flags, DONE, on);
  }

  /** A river's sleep that may turn into parking, once every branch of the flow waits (see FlowRunner.#unwind). */
  get parkable(): boolean {
    return (this.#flags & PARKABLE) !== 0;
  }
  set parkable(on: boolean) {
    this.#flags = flagged(this.#flags, PARKABLE, on);
  }

  /** A Dam's wait: a message sent to the flow ends it. */
  get dam(): boolean {
    return (this.#flags & DAM) !== 0;
  }
  set dam(on: boolean) {
    this.#flags = flagged(this.#flags, DAM, on);
  }

  get atomic(): boolean {
    return (this.#flags & ATOMIC) !== 0;
  }

  onDue(): void {
    this.runner.waitEnded(this);
  }
}

/**
 * The Atlantic of every flow that draws none: it has no state and its hooks do nothing, so the
 * flows share it rather than keep one each.
 */
export const NO_ATLANTIC: Atlantic = Object.freeze(new Atlantic());

const INTERRUPTED = 1;
const STOPPED = 2;
const CANCELLED = 4;
/** A message came since the flow last ran from its records: a flow that parks runs again at once. */
const FRESH = 8;
/** Parked: the flow holds no place in the concurrency window (see RunnerHost.parked). */
const SLOTLESS = 16;
/** Taken over by another engine (this one lost its claim): nothing more of the flow is written, run or announced here. */
const TAKEN = 32;

/** The barrier of a runner that has written nothing yet. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * What few flows use: kept apart and made on first use, so that the runner of a parked flow
 * (a plain river or parallel branches waiting, no Atlantic drawn) carries none of these fields.
 */
class SeldomUsed {
  /** Basin scopes read back from the store, by basin id. */
  scopes: Record<string, JsonObject> | undefined;
  /** The flow's Atlantic, when it drew one. */
  atlantic: Atlantic | undefined;
  /** The flow's first failure (E_CANCELLED when cancelled), once it is stopping. */
  error: FlowError | undefined;
  /** Aborted when the flow fails or is cancelled: the headwaters' signal, made on first use. */
  abort: AbortController | undefined;
  /** Made by done() for whoever must wait for the runner to stop (cancel, close). */
  done: Deferred<void> | undefined;
  log: Logger | undefined;
  /** The grace after which calls the flow stopped are abandoned, while it runs. */
  grace: AbortController | undefined;
  /** Basin copies of the headwaters while their basins run, by node index: a flow that parks keeps them. */
  copies: Map<number, Headwaters<any>> | undefined;
  /** Messages sent to the flow and not yet consumed by a Dam, oldest first; undefined when none. */
  messages: StoredCommand[] | undefined;
  /**
   * The seqs of the messages this flow's Dams took here: a read of the inbox made before their
   * consumption landed (a command notice from another engine) lists them again, and they must not
   * open a second Dam.
   */
  taken: number[] | undefined;
  /** Copies of ended basins that hold compensable rivers, as the basins left them, by node index. */
  left: Map<number, Headwaters<any>> | undefined;
}

/**
 * Runs one flow: its streams in order, the Atlantic hook, and every transition through the write
 * queue. Rebuilt from the store, it continues where the records say the flow was.
 */
export class FlowRunner implements SignalSource, StepPort {
  readonly host: RunnerHost;
  /** The flow's header as it stands (replaced on each transition, never changed). */
  #header: FlowHeader;
  readonly plan: Plan;
  readonly instances: Instances;
  /** Each stream's record, by its node's `index`. */
  readonly records: StreamRecord[];
  readonly hw: Headwaters<any>;
  /** The flow's parked waits (several when parallel branches wait at once), as a linked list: no array per flow. */
  #waits: RunnerWait | undefined;
  /** INTERRUPTED, STOPPED, CANCELLED, FRESH and SLOTLESS: one field rather than five, as every parked flow keeps its runner. */
  #flags = 0;
  /**
   * The flow's latest queued write that the next stream must wait for (a stream's end, a fork's
   * choice, a basin's copy): writes land in order, so once it is durable every earlier write is too.
   */
  #barrier: Promise<void> = RESOLVED;
  /** The flow's latest queued write of any kind, which the flow's next event waits for (RESOLVED when none is pending). */
  #written: Promise<void> = RESOLVED;
  /** Calls of flow() and cycle() in progress, made on first use. */
  #calls: Set<Call> | undefined;
  /** Sequences of the flow running now (a parallel river's branches count one each). */
  #leaves = 1;
  /** Of those, the ones sleeping in a wait that may turn into parking. */
  #sleeping = 0;
  /** What few flows use, made when one is first set. */
  #more: SeldomUsed | undefined;

  constructor(host: RunnerHost, flow: PreparedFlow) {
    this.host = host;
    this.#header = flow.header;
    this.plan = flow.plan;
    this.instances = flow.instances;
    this.records = flow.records;
    this.hw = flow.hw;
    if (flow.scopes !== undefined) this.#seldom().scopes = flow.scopes;
    if (flow.atlantic !== NO_ATLANTIC) this.#seldom().atlantic = flow.atlantic;
    if (flow.messages !== undefined && flow.messages.length > 0) this.#messages = flow.messages.slice();
    internals.setSignal(this.hw, this);
    if (flow.header.cancelReason !== undefined) this.cancel(flow.header.cancelReason, false);
    // a failure recorded before the process died: the flow resumes failing, as it was
    else if (flow.header.status === 'running' && flow.header.error !== undefined) this.fail(flow.header.error);
  }

  get id(): string {
    return this.#header.id;
  }

  #seldom(): SeldomUsed {
    return (this.#more ??= new SeldomUsed());
  }

  // the fields kept in #flags and #more, read and set as fields; setting one of #more's to
  // undefined makes no SeldomUsed
  get #interrupted(): boolean {
    return (this.#flags & INTERRUPTED) !== 0;
  }
  set #interrupted(on: boolean) {
    this.#flags = flagged(this.#flags, INTERRUPTED, on);
  }
  get #stopped(): boolean {
    return (this.#flags & STOPPED) !== 0;
  }
  set #stopped(on: boolean) {
    this.#flags = flagged(this.#flags, STOPPED, on);
  }
  get #cancelled(): boolean {
    return (this.#flags & CANCELLED) !== 0;
  }
  set #cancelled(on: boolean) {
    this.#flags = flagged(this.#flags, CANCELLED, on);
  }
  get #fresh(): boolean {
    return (this.#flags & FRESH) !== 0;
  }
  set #fresh(on: boolean) {
    this.#flags = flagged(this.#flags, FRESH, on);
  }
  /** True while the flow is held at Dams and holds no place in the engine's concurrency window. @internal */
  get slotless(): boolean {
    return (this.#flags & SLOTLESS) !== 0;
  }
  set slotless(on: boolean) {
    this.#flags = flagged(this.#flags, SLOTLESS, on);
  }
  get #scopes(): Record<string, JsonObject> | undefined {
    return this.#more?.scopes;
  }
  get #atlantic(): Atlantic {
    return this.#more?.atlantic ?? NO_ATLANTIC;
  }
  /** The flow's first failure (E_CANCELLED when cancelled), once it is stopping. */
  get #error(): FlowError | undefined {
    return this.#more?.error;
  }
  set #error(v: FlowError | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().error = v;
  }
  get #abort(): AbortController | undefined {
    return this.#more?.abort;
  }
  set #abort(v: AbortController | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().abort = v;
  }
  get #done(): Deferred<void> | undefined {
    return this.#more?.done;
  }
  set #done(v: Deferred<void> | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().done = v;
  }
  get #log(): Logger | undefined {
    return this.#more?.log;
  }
  set #log(v: Logger | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().log = v;
  }
  get #grace(): AbortController | undefined {
    return this.#more?.grace;
  }
  set #grace(v: AbortController | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().grace = v;
  }
  get #copies(): Map<number, Headwaters<any>> | undefined {
    return this.#more?.copies;
  }
  set #copies(v: Map<number, Headwaters<any>> | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().copies = v;
  }
  get #messages(): StoredCommand[] | undefined {
    return this.#more?.messages;
  }
  set #messages(v: StoredCommand[] | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().messages = v;
  }
  get #left(): Map<number, Headwaters<any>> | undefined {
    return this.#more?.left;
  }
  set #left(v: Map<number, Headwaters<any>> | undefined) {
    if (v !== undefined || this.#more !== undefined) this.#seldom().left = v;
  }

  /** The flow's header as it stands. */
  get header(): FlowHeader {
    return this.#header;
  }

  /** Moves the flow's header through the state machine; returns the new header. */
  #flow(event: FlowEvent): FlowHeader {
    return (this.#header = nextFlow(this.#header, event));
  }

  /** Moves a stream's record through the state machine; returns the new record. */
  apply(node: PlanNode, event: StreamEvent): StreamRecord {
    return (this.records[node.index] = nextStream(this.records[node.index]!, event));
  }

  get log(): Logger {
    return (this.#log ??= this.host.logger.child({ flowId: this.header.id, requestId: this.header.requestId }));
  }

  /** True once the flow failed or was cancelled: rivers not yet started are skipped. */
  get stopping(): boolean {
    return this.#error !== undefined;
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** The flow's signal (the headwaters'): aborted when the flow fails or is cancelled. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#error !== undefined) this.#abort.abort(this.#reason());
    }
    return this.#abort.signal;
  }

  /**
   * Waits until `due` on the engine's clock. A non-atomic river of the top-level sequence (no
   * parallel branch, basin copy or fork on the stack) of a flow that is not stopping parks: this
   * throws, the flow's stack unwinds, and the flow runs again from its records when the wait is
   * due. Other waits end early when the engine closes, and, unless the river is atomic, when the
   * flow fails or is cancelled: the caller checks which.
   */
  waitUntil(due: number, atomic: boolean, dam = false): Promise<void> {
    const parkable = !atomic && this.#error === undefined && !this.#interrupted;
    // the only sequence running: the flow parks at once
    if (parkable && this.#leaves === 1) throw new Parked(due, dam);
    return new Promise((resolve, reject) => {
      const wait = new RunnerWait(due, this, atomic, resolve);
      wait.dam = dam;
      if (parkable) {
        wait.parkable = true;
        wait.unwind = reject;
        this.#sleeping++;
      }
      this.#wait(wait);
      this.#unwind();
    });
  }

  /**
   * When every sequence of the flow that runs now is asleep in a wait that may park (branches of
   * parallel rivers, rivers in basins and forks), their sleeps end by throwing Parked: each branch
   * unwinds, each parallel river throws the earliest due time on, and the whole flow parks as one
   * wait, with no call suspended. When it is due, the flow runs again from its records, and the
   * rivers not yet due sleep (or park) again.
   */
  #unwind(): void {
    if (this.#sleeping === 0 || this.#sleeping < this.#leaves) return;
    const sleepers: RunnerWait[] = [];
    for (let w: RunnerWait | undefined = this.#waits; w !== undefined; w = w.after) if (w.parkable) sleepers.push(w);
    for (const w of sleepers) {
      w.unwind!(new Parked(w.due, w.dam));
      w.unwind = undefined;
      this.host.poller.wake(w);
    }
  }

  get requestId(): string {
    return this.#header.requestId;
  }

  get clock(): Clock {
    return this.host.clock;
  }

  get random(): () => number {
    return this.host.random;
  }

  /** A stream's record as it stands. */
  record(node: PlanNode): StreamRecord {
    return this.records[node.index]!;
  }

  listens(event: EngineEventName): boolean {
    return (this.#flags & TAKEN) === 0 && this.host.listens(event);
  }

  /**
   * Announces an event of this flow once the writes queued before it are in the store, so that no
   * listener hears of a river's end that a crash could still undo (the river would run again);
   * none when those writes failed, or once another engine took the flow over (its writes are
   * dropped). Events of one flow keep their order, as its writes land in order.
   */
  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    const written = this.#written;
    if (written === RESOLVED) return this.#announce(event, payload);
    written.then(
      () => {
        if (this.#written === written) this.#written = RESOLVED;
        this.#announce(event, payload);
      },
      () => undefined,
    );
  }

  #announce<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    if ((this.#flags & TAKEN) === 0) this.host.emit(event, payload);
  }

  /** Parks a wait of this flow in the poller; woken at once if the flow has stopped already. */
  #wait(wait: RunnerWait): void {
    wait.after = this.#waits;
    if (this.#waits !== undefined) this.#waits.before = wait;
    this.#waits = wait;
    // a Dam without a timeout waits for its message only: nothing in the poller's heap
    if (wait.due !== Infinity) this.host.poller.park(wait);
    if (this.#interrupted || (!wait.atomic && this.#error !== undefined)) this.host.poller.wake(wait);
  }

  /** A wait of this flow is due or woken. @internal (called by RunnerWait) */
  waitEnded(wait: RunnerWait): void {
    if (wait.before !== undefined) wait.before.after = wait.after;
    else this.#waits = wait.after;
    if (wait.after !== undefined) wait.after.before = wait.before;
    wait.before = wait.after = undefined;
    if (wait.parkable) {
      wait.parkable = false;
      this.#sleeping--;
    }
    const next = wait.next;
    // a woken wait stays in the poller's heap until its due time: it must hold nothing of the flow's run
    wait.next = wait.unwind = undefined;
    // (a sleep that #unwind turned into parking was rejected first: resolving it does nothing)
    // the next attempt or poll after a wait: not in an engine that may have lost the flow meanwhile
    this.host.whenClaimsSure(next ?? (() => queueMicrotask(() => this.#unpark())));
  }

  /** Runs the flow from where its records say it is, until it ends or a river parks. */
  #drive(): void {
    this.#fresh = false;
    this.#steps().then(
      (outcome) => this.#settled(outcome),
      (err: unknown) => {
        if (!(err instanceof Parked)) return this.#settled(undefined, err);
        // a parked flow is this wait and its objects: no suspended calls, no closures; held at Dams
        // only, no place in the window either (a flow held for days must not keep others from running)
        const wait = new RunnerWait(err.due, this, false, undefined);
        if (err.dam) this.host.parked(this);
        this.#wait(wait);
        // a message came while the flow was unwinding to park, when no wait of it could be woken
        if (this.#fresh) this.host.poller.wake(wait);
      },
    );
  }

  #settled(outcome: FlowOutcome | undefined, error?: unknown): void {
    this.#stopped = true;
    this.#done?.resolve();
    this.host.settled(this, outcome, error);
  }

  /** Resolves once the runner has stopped: the flow ended, or the engine closed. */
  done(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return (this.#done ??= deferred<void>()).promise;
  }

  #unpark(): void {
    if (this.slotless && !this.#interrupted) this.host.resume(this, this.#error !== undefined);
    else this.unparked();
  }

  /** The host gave the parked flow its place in the window back (or the engine is closing). @internal */
  unparked(): void {
    if (this.#interrupted) return this.#settled(undefined, new Interrupted());
    this.#drive();
  }

  /**
   * A message sent to the flow (its command is in the store): a Dam of its name takes it, now if
   * one holds (its wait, or the parked flow's, ends), else when one is reached.
   */
  deliver(message: StoredCommand): void {
    if (message.body.kind !== 'message') return;
    // listed again by a read of the inbox: waiting here already, or taken by a Dam
    if (this.#messages?.some((m) => m.seq === message.seq) === true || this.#more?.taken?.includes(message.seq) === true) return;
    const list = (this.#messages ??= []);
    list.push(message);
    list.sort((a, b) => a.seq - b.seq);
    this.#fresh = true;
    const woken: RunnerWait[] = [];
    for (let w: RunnerWait | undefined = this.#waits; w !== undefined; w = w.after) if (w.dam || w.next === undefined) woken.push(w);
    for (const w of woken) this.host.poller.wake(w);
  }

  /** Takes the oldest message of this name, if one was sent. */
  #takeMessage(name: string): StoredCommand | undefined {
    const list = this.#messages;
    if (list === undefined) return undefined;
    const i = list.findIndex((m) => m.body.kind === 'message' && m.body.name === name);
    if (i < 0) return undefined;
    const [m] = list.splice(i, 1);
    if (list.length === 0) this.#messages = undefined;
    (this.#seldom().taken ??= []).push(m!.seq);
    return m;
  }

  #wakeWaits(all: boolean): void {
    if (this.#waits === undefined) return;
    // collected first: a wait removes itself from the list when it is woken
    const woken: RunnerWait[] = [];
    for (let w: RunnerWait | undefined = this.#waits; w !== undefined; w = w.after) if (all || !w.atomic) woken.push(w);
    for (const w of woken) this.host.poller.wake(w);
  }

  #reason(): VastflowError {
    return new VastflowError(this.#error!.code, this.#error!.message);
  }

  /** A call of flow() or cycle() began; a non-atomic one in a stopping flow sees its signal aborted at once. */
  began(call: Call): void {
    (this.#calls ??= new Set()).add(call);
    if (this.#error !== undefined && !call.atomic) {
      call.abort(this.#reason());
      this.#armGrace();
    }
  }

  /** A call of flow() or cycle() ended (or was abandoned). */
  ended(call: Call): void {
    const calls = this.#calls;
    if (calls === undefined) return;
    calls.delete(call);
    if (calls.size > 0) return;
    this.#calls = undefined;
    this.#grace?.abort();
    this.#grace = undefined;
  }

  /**
   * Once the flow stops, its non-atomic calls get `graceMs` of real time to settle; then they are
   * abandoned, so that a call that never settles cannot keep a cancelled or failed flow running.
   */
  #armGrace(): void {
    if (this.#grace !== undefined || this.#calls === undefined) return;
    const grace = (this.#grace = new AbortController());
    new SystemClock().sleep(this.host.graceMs, grace.signal).then(
      () => {
        if (this.#grace === grace) this.#grace = undefined;
        const why = new VastflowError('E_CANCELLED', `abandoned ${this.host.graceMs}ms after the flow stopped`);
        for (const c of [...(this.#calls ?? [])]) if (!c.atomic) c.abandon(why);
      },
      () => undefined,
    );
  }

  /** Abandons every call still in progress (the engine has closed after its grace). */
  abandon(): void {
    const why = new Interrupted();
    for (const c of [...(this.#calls ?? [])]) c.abandon(why);
  }

  /**
   * Marks the flow failed with its first error; later failures keep the first. Given the change
   * that records the failure, the flow's error goes into it too, so that the failure and the
   * flow's knowledge of it land in one write and recovery resumes the flow failing.
   */
  fail(error: FlowError, change?: FlowChange): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    if (change !== undefined && this.header.status === 'running') change.header = this.#flow({ type: 'failing', error });
    if (this.#abort !== undefined) this.#abort.abort(this.#reason());
    if (this.#calls !== undefined) {
      for (const c of this.#calls) if (!c.atomic) c.abort(this.#reason());
      this.#armGrace();
    }
    this.#wakeWaits(false);
  }

  /** Cancels the flow: it stops, and Atlantic.fail runs with E_CANCELLED. */
  cancel(reason: string, record = true): void {
    if (this.#error !== undefined || this.header.status !== 'running') return;
    this.#cancelled = true;
    if (record) void this.write({ flowId: this.id, header: this.#flow({ type: 'cancel', reason, at: this.host.clock.now() }) });
    this.fail({ code: 'E_CANCELLED', message: `flow cancelled: ${reason}` });
  }

  /**
   * Another engine took the flow over (this engine lost its claim): it stops as when the engine
   * closes, its Atlantic hook does not run here and it announces nothing more.
   */
  taken(): void {
    this.#flags |= TAKEN;
    this.interrupt();
  }

  /** Stops the flow where it is, for the engine to close: running calls settle, nothing new starts. */
  interrupt(): void {
    this.#interrupted = true;
    this.#wakeWaits(true);
  }

  /** Throws Interrupted when the engine is closing. */
  checkInterrupt(): void {
    if (this.#interrupted) throw new Interrupted();
  }

  /**
   * Before a call of the flow's code (an attempt, a poll, a compensation, the Atlantic hook):
   * throws Interrupted when the flow must stop; undefined while this engine's claims are sure;
   * else what settles once a heartbeat has told which it still holds (rejecting with Interrupted
   * for a flow lost meanwhile). A write sent before the process was paused may be answered after
   * it woke, past the lease: its flow must not go on to its next call while another engine may
   * run it. Awaited only when it is a promise: the usual call pays no microtask.
   */
  readyToCall(): Promise<void> | undefined {
    this.checkInterrupt();
    if (!this.host.claimsUnsure()) return undefined;
    return new Promise<void>((resolve) => this.host.whenClaimsSure(resolve)).then(() => this.checkInterrupt());
  }

  /**
   * Queues a change of this flow; what it returns resolves once the change is in the store. A
   * change that is not a `barrier` (a parallel river's start) does not hold back the next stream:
   * its branches may start while it is still being written.
   */
  write(change: FlowChange, barrier = true): Promise<void> {
    const written = this.host.push(change);
    if (barrier) this.#barrier = written;
    this.#written = written;
    return written;
  }

  /**
   * The checkpoint of `hw` (the flow's or a basin's copy): the keys changed since the last one.
   * A basin's checkpoint also records which keys the basin has touched, for its merge.
   */
  checkpoint(hw: Headwaters<any>, scope: Scope, change: FlowChange): void {
    const delta = internals.drainDirty(hw);
    if (delta === undefined) return;
    if (scope === 'main') {
      (change.headwaters ??= {})['main'] = delta;
      return;
    }
    (change.headwaters ??= {})[scope.id] = delta;
    const touched = internals.touched(hw);
    (change.streams ??= {})[scope.id] = this.apply(scope, { type: 'touch', keys: [...Object.keys(touched.set), ...touched.del] });
  }

  /** Runs the flow to its end (or until the engine closes); the host hears of it through `settled`. */
  run(): void {
    const h = this.header;
    if (h.status === 'running' && this.listens('flow:start')) this.emit('flow:start', { flowId: h.id, requestId: h.requestId });
    this.#drive();
  }

  /** The flow's streams, its end and its Atlantic hook; run again after each time a river parked. */
  async #steps(): Promise<FlowOutcome> {
    if (this.header.status === 'running') {
      await this.sequence(this.plan.streams, this.hw, 'main', { atomicStarted: false, failed: false });
      this.checkInterrupt();
      const status = this.#cancelled ? 'cancelled' : this.#error !== undefined ? 'fail' : 'success';
      // a failed or cancelled flow undoes what its rivers did before its end (and Atlantic.fail)
      const error = this.#error === undefined ? undefined : await compensate(this, this.#error);
      const hooks = this.#atlantic.constructor !== Atlantic;
      const end: FlowChange = { flowId: this.id, header: this.#flow({ type: 'end', status, error, hooks, at: this.host.clock.now() }) };
      this.checkpoint(this.hw, 'main', end);
      await this.write(end);
      // a write without the claim was dropped: the engine that took the flow over runs its hook
      if ((this.#flags & TAKEN) !== 0) throw new Interrupted();
    } else if (this.header.error !== undefined) {
      this.fail(this.header.error);
    }
    if (this.header.atlantic !== undefined && !this.header.atlantic.done) await this.#runAtlantic();
    const h = this.header;
    if (this.listens('flow:end')) {
      // the flow has ended here: its status is one a flow ends in
      const status = h.status as FlowOutcome['status'];
      this.emit('flow:end', { flowId: h.id, requestId: h.requestId, status, ...(h.error !== undefined ? { error: h.error } : {}) });
    }
    return this.outcome();
  }

  /** The headwaters a compensation sees: the copy `basin` left (rebuilt from its checkpoints after a restart), else the flow's. */
  compensationHeadwaters(basin: BasinNode | undefined): Headwaters<any> {
    if (basin === undefined) return this.hw;
    const left = (this.#left ??= new Map());
    let copy = left.get(basin.index);
    if (copy === undefined) left.set(basin.index, (copy = internals.restoredCopy(this.hw, this.#scopes?.[basin.id] ?? {}, [])));
    return copy;
  }

  /** The outcome of a finished flow. */
  outcome(): FlowOutcome {
    const h = this.header;
    const out: FlowOutcome = { id: h.id, requestId: h.requestId, status: h.status as FlowOutcome['status'], headwaters: this.hw.toJSON() as JsonObject };
    if (h.error !== undefined) out.error = h.error;
    return out;
  }

  async #runAtlantic(): Promise<void> {
    const h = this.header;
    const a = h.atlantic!;
    let error: FlowError | undefined;
    const ready = this.readyToCall();
    if (ready !== undefined) await ready;
    try {
      if (a.outcome === 'success') await this.#atlantic.success(this.hw);
      else await this.#atlantic.fail(this.hw, h.error ?? { code: 'E_RIVER_FAILED', message: 'the flow failed' });
    } catch (err) {
      const e = toError(err);
      error = { code: 'E_RIVER_FAILED', message: `Atlantic.${a.outcome} threw: ${e.message}` };
      this.log.error({ err: e, hook: a.outcome }, 'atlantic hook failed');
    }
    // a hook that settled, even while the engine closes, is recorded so that it never runs again
    const hooked = this.#flow(error === undefined ? { type: 'hooked', at: this.host.clock.now() } : { type: 'hooked', error, at: this.host.clock.now() });
    try {
      await this.write({ flowId: this.id, header: hooked });
    } catch (err) {
      if (this.#interrupted) throw new Interrupted(); // past the grace period: recovery runs it again
      throw err;
    }
  }

  /** Runs a sequence; false when one of its streams failed. Throws Interrupted when closing. */
  async sequence(nodes: PlanNode[], hw: Headwaters<any>, scope: Scope, branch: Branch): Promise<boolean> {
    let ok = true;
    for (const node of nodes) {
      this.checkInterrupt();
      const rec = this.records[node.index]!;
      // run again from its records (after parking, on recovery), a sequence knows its atomic river had started
      if (node.kind === 'river' && node.attr.atomic && rec.state !== 'init' && rec.state !== 'skipped') branch.atomicStarted = true;
      if (rec.state === 'success' || rec.state === 'skipped' || rec.state === 'compensated') continue;
      // the rule of durability: whatever came before is in the store before the next stream starts
      await this.#barrier;
      this.checkInterrupt();
      if (rec.state === 'fail') {
        // a failure found in the records (recovery): the flow is failing, whatever else it shows
        if (!this.stopping)
          this.fail(this.header.error ?? rec.error ?? rec.errors?.at(-1) ?? { code: 'E_RIVER_FAILED', message: `stream ${node.id} failed`, river: node.name });
        ok = false;
        branch.failed = true;
        continue;
      }
      if (this.stopping) {
        if (node.kind === 'river' || node.kind === 'dam') {
          const atomic = node.kind === 'river' && node.attr.atomic;
          const resumingAtomic = atomic && rec.state !== 'init';
          const atomicNext = atomic && branch.atomicStarted && !branch.failed;
          if (!resumingAtomic && !atomicNext) {
            // a river the flow stopped while it waited (parked, or found running on recovery) fails its branch
            if (this.#skip(node)) {
              ok = false;
              branch.failed = true;
            }
            continue;
          }
        } else if (rec.state === 'init') {
          this.#skip(node);
          continue;
        }
        // a container that had started is entered: its atomic rivers finish, the rest stop inside
      }
      let nodeOk: boolean;
      switch (node.kind) {
        case 'river':
          nodeOk = await runRiver(this, node, hw, scope, branch);
          break;
        case 'parallel':
          nodeOk = await this.#parallel(node, hw, scope);
          break;
        case 'basin':
          nodeOk = await this.#basin(node, hw, scope);
          break;
        case 'fork':
          nodeOk = await this.#fork(node, hw, scope, branch);
          break;
        case 'dam':
          nodeOk = await this.#dam(node, hw, scope);
          break;
      }
      if (!nodeOk) {
        ok = false;
        branch.failed = true;
      }
    }
    return ok;
  }

  /**
   * Marks a stream not yet started, and everything in it, skipped; a river found started (it was
   * parked when the flow stopped, or recovery found it running in a flow that was failing) ends as
   * stopped, with its river:end. True when a river was stopped: its sequence has failed.
   */
  #skip(node: PlanNode): boolean {
    const streams: Record<string, StreamRecord> = {};
    const now = this.host.clock.now();
    let stopped = false;
    let rivers: PlanNode[] | undefined;
    for (const n of [node, ...descendants(node)]) {
      const rec = this.records[n.index]!;
      if (rec.state === 'init') streams[n.id] = this.apply(n, { type: 'skip' });
      else if (n.kind === 'dam' && rec.state === 'waiting') {
        // a Dam is no river: its error names no river of its own, only the one that failed (as a river's does)
        const why = this.#whyStopped();
        const error: FlowError = { code: 'E_CANCELLED', message: `dam ${n.name} stopped: ${why.message}` };
        if (why.river !== undefined) error.cause = { river: why.river };
        streams[n.id] = this.apply(n, { type: 'stop', error, at: now });
        stopped = true;
      } else if (n.kind === 'river' && (rec.state === 'running' || rec.state === 'cycling')) {
        const error = this.stoppedError(n.name, rec.attempts);
        streams[n.id] = this.apply(n, { type: 'stop', error, at: now });
        stopped = true;
        (rivers ??= []).push(n);
      }
    }
    void this.write({ flowId: this.id, streams });
    // announced once the records are queued: an event waits for the writes before it
    if (rivers !== undefined && this.listens('river:end')) {
      for (const n of rivers) {
        const ended = streams[n.id]!;
        const payload = { flowId: this.id, requestId: this.requestId, river: n.name, streamId: n.id };
        this.emit('river:end', { ...payload, state: 'fail', attempts: ended.attempts, cycles: ended.cycles, error: ended.error! });
      }
    }
    return stopped;
  }

  /**
   * The error of a river stopped because the flow failed or was cancelled: E_CANCELLED, with the
   * river that failed as its cause (the flow's error stays that root failure).
   */
  stoppedError(river: string, attempts: number): FlowError {
    const why = this.#whyStopped();
    return why.river === undefined
      ? { code: 'E_CANCELLED', message: `river ${river} stopped: ${why.message}`, river, attempts }
      : { code: 'E_CANCELLED', message: `river ${river} stopped: ${why.message}`, river, attempts, cause: { river: why.river } };
  }

  /** Why the flow stopped its streams: cancelled, a river that failed, or another stream (a Dam that timed out). */
  #whyStopped(): { message: string; river?: string } {
    const root = this.#error ?? this.header.error;
    if (this.#cancelled || this.header.cancelReason !== undefined || root === undefined || root.code === 'E_CANCELLED')
      return { message: 'the flow is cancelled' };
    if (root.river !== undefined) return { message: `river ${root.river} failed`, river: root.river };
    return { message: `the flow failed (${root.code}: ${root.message})` };
  }

  /**
   * Moves a container to `running`, `success` or `fail` and returns the change that records it
   * (`change` when given); the next river's write makes it durable.
   */
  #container(node: PlanNode, state: 'running' | 'success' | 'fail', change?: FlowChange, error?: FlowError): FlowChange {
    const at = this.host.clock.now();
    const rec = this.apply(
      node,
      state === 'running'
        ? { type: 'open', at }
        : error === undefined
          ? { type: 'close', ok: state === 'success', at }
          : { type: 'close', ok: false, at, error },
    );
    const out = change ?? { flowId: this.id };
    (out.streams ??= {})[node.id] = rec;
    return out;
  }

  async #parallel(node: ParallelNode, hw: Headwaters<any>, scope: Scope): Promise<boolean> {
    // its branches need not wait for this record: any of their records that lands implies it has
    if (this.records[node.index]!.state === 'init') void this.write(this.#container(node, 'running'), false);
    // the sequence that reached this parallel river waits for it: its branches run in its place
    this.#leaves += node.branches.length - 1;
    const settled = await Promise.allSettled(
      node.branches.map((b) =>
        this.sequence(b, hw, scope, { atomicStarted: false, failed: false }).finally(() => {
          this.#leaves--;
          this.#unwind();
        }),
      ),
    );
    this.#leaves++;
    // branches that parked: the parallel river parks until the earliest of them is due
    let parked: Parked | undefined;
    let dams = true;
    for (const s of settled) {
      if (s.status === 'fulfilled') continue;
      if (!(s.reason instanceof Parked)) throw s.reason;
      dams &&= s.reason.dam;
      if (parked === undefined || s.reason.due < parked.due) parked = s.reason;
    }
    if (parked !== undefined) throw parked.dam === dams ? parked : new Parked(parked.due, dams);
    const ok = settled.every((s) => s.status === 'fulfilled' && s.value);
    void this.write(this.#container(node, ok ? 'success' : 'fail'));
    return ok;
  }

  async #basin(node: BasinNode, hw: Headwaters<any>, scope: Scope): Promise<boolean> {
    const rec = this.records[node.index]!;
    let copy: Headwaters<any>;
    const live = this.#copies?.get(node.index);
    if (live !== undefined)
      copy = live; // the basin ran before the flow parked
    else if (rec.state === 'init') {
      copy = internals.isolatedCopy(hw);
      const start = this.#container(node, 'running');
      (start.headwaters ??= {})[node.id] = internals.full(copy);
      void this.write(start);
    } else {
      copy = internals.restoredCopy(hw, this.#scopes?.[node.id] ?? {}, rec.touched ?? []);
    }
    (this.#copies ??= new Map()).set(node.index, copy);
    const ok = await this.sequence(node.streams, copy, node, { atomicStarted: false, failed: false });
    this.#copies.delete(node.index);
    // the compensations of its rivers see the copy as the basin left it
    const keep = holdsCompensable(node, this.instances);
    if (keep) (this.#left ??= new Map()).set(node.index, copy);
    if (!ok) {
      // keep what the basin's finished rivers wrote, so that a redrive resumes the basin with it
      const fail = this.#container(node, 'fail');
      this.checkpoint(copy, node, fail);
      void this.write(fail);
      return false;
    }
    // the merge and the basin's success are one write: recovery never merges twice or loses it
    internals.apply(hw, internals.touched(copy), true);
    const end = this.#container(node, 'success');
    this.checkpoint(hw, scope, end);
    if (keep) this.checkpoint(copy, node, end);
    void this.write(end);
    return true;
  }

  async #fork(node: ForkNode, hw: Headwaters<any>, scope: Scope, branch: Branch): Promise<boolean> {
    const rec = this.records[node.index]!;
    if (rec.choice === undefined) {
      void this.write(this.#container(node, 'running'));
      let choice: string;
      try {
        choice = await forkAt(this.instances, node).choose(hw);
      } catch (err) {
        return this.#failContainer(node, {
          code: 'E_RIVER_FAILED',
          message: `fork ${node.name}: choose() threw: ${(err as Error)?.message ?? String(err)}`,
          river: node.name,
        });
      }
      if (typeof choice !== 'string' || !node.branches.has(choice)) {
        const names = [...node.branches.keys()].join(', ');
        const chose = typeof choice === 'string' ? JSON.stringify(choice) : `${String(choice)} (a ${typeof choice}, not a branch name)`;
        return this.#failContainer(node, {
          code: 'E_NO_BRANCH',
          message: `fork ${node.name} chose ${chose}, which is not one of its branches: ${names}`,
          river: node.name,
        });
      }
      const change: FlowChange = { flowId: this.id, streams: { [node.id]: this.apply(node, { type: 'choose', choice }) } };
      for (const [name, streams] of node.branches) {
        if (name === choice) continue;
        for (const n of streams.flatMap((s) => [s, ...descendants(s)])) change.streams![n.id] = this.apply(n, { type: 'skip' });
      }
      void this.write(change);
    }
    const ok = await this.sequence(node.branches.get(this.records[node.index]!.choice!)!, hw, scope, branch);
    void this.write(this.#container(node, ok ? 'success' : 'fail'));
    return ok;
  }

  /**
   * Holds the branch until a message of the Dam's name is in the flow's inbox (its payload goes into
   * the headwaters in the write that consumes it and opens the Dam), until its timeout (E_TIMEOUT,
   * or on without the key), or, for a durable sleep, until its delay has passed. While it holds,
   * the flow parks like a polling river: nothing of it is suspended.
   */
  async #dam(node: DamNode, hw: Headwaters<any>, scope: Scope): Promise<boolean> {
    if (this.records[node.index]!.state === 'init') {
      const at = this.host.clock.now();
      const held = this.apply(node, { type: 'hold', at, ...(node.waitMs !== undefined ? { dueAt: at + node.waitMs } : {}) });
      // a wait may last days: what the rivers before it put is kept with it, durable or not
      const change: FlowChange = { flowId: this.id, streams: { [node.id]: held } };
      this.checkpoint(hw, scope, change);
      void this.write(change);
    }
    for (;;) {
      this.checkInterrupt();
      // the flow stopped while the Dam held: it ends stopped and its branch fails
      if (this.stopping) return !this.#skip(node);
      const now = this.host.clock.now();
      const message = node.message === null ? undefined : this.#takeMessage(node.message);
      if (message !== undefined && message.body.kind === 'message') {
        const change: FlowChange = { flowId: this.id, consumed: [message.seq] };
        hw.put(node.key!, message.body.payload);
        (change.streams ??= {})[node.id] = this.apply(node, { type: 'end', at: now });
        this.checkpoint(hw, scope, change);
        await this.write(change);
        if (this.listens('flow:message')) this.emit('flow:message', { flowId: this.id, requestId: this.requestId, name: node.message! });
        return true;
      }
      const due = this.records[node.index]!.dueAt;
      if (due !== undefined && now >= due) {
        if (node.message === null || node.onTimeout === 'continue') {
          await this.write({ flowId: this.id, streams: { [node.id]: this.apply(node, { type: 'end', at: now }) } });
          return true;
        }
        const error: FlowError = {
          code: 'E_TIMEOUT',
          message: `dam ${node.message}: no message "${node.message}" within ${node.waitMs} ms`,
        };
        const change: FlowChange = { flowId: this.id, streams: { [node.id]: this.apply(node, { type: 'end', error, at: now }) } };
        this.fail(error, change);
        void this.write(change);
        return false;
      }
      await this.waitUntil(due ?? Infinity, false, true);
    }
  }

  #failContainer(node: PlanNode, error: FlowError): false {
    const change = this.#container(node, 'fail', undefined, error);
    // what it holds never starts: skipped, as the rivers after it are
    for (const n of descendants(node)) if (this.records[n.index]!.state === 'init') change.streams![n.id] = this.apply(n, { type: 'skip' });
    this.fail(error, change);
    void this.write(change);
    return false;
  }
}
