import { isThenable } from '../util/deferred.js';
import { isFatalError } from '../errors/fatal-error.js';
import { toError, type FlowError } from '../errors/flow-error.js';
import { isVastflowError, VastflowError } from '../errors/vastflow-error.js';
import type { Headwaters } from '../model/headwaters.js';
import type { FlowChange, HistoryEntry, StreamRecord } from '../store/records.js';
import { AttemptHeadwaters } from './attempt-headwaters.js';
import { Call } from './call.js';
import type { Branch, Scope, StepPort } from './runner-port.js';
import { riverAt, type RiverNode } from './plan.js';
import { nextDelayMs } from './retry-policy.js';
import { CallContext } from './river-context.js';
import { compensable, nextCompletion } from './compensation.js';
import type { StreamEvent } from './transitions.js';

class TimedOut extends VastflowError {
  constructor(river: string, what: string, ms: number) {
    super('E_TIMEOUT', `river ${river}: ${what} timed out after ${ms}ms`);
  }
}

/**
 * Runs one river where its record says it is: `flow()` with retries, then the cycle. Returns
 * false when the river failed (the flow is then failing). Throws Interrupted when the engine closes.
 */
export function runRiver(run: StepPort, node: RiverNode, hw: Headwaters<any>, scope: Scope, branch: Branch): Promise<boolean> {
  if (node.attr.atomic) branch.atomicStarted = true;
  return new RiverStep(run, node, hw, scope).execute();
}

/** One river's run: a small object rather than closures, as many flows may be parked in one. */
class RiverStep {
  constructor(
    readonly run: StepPort,
    readonly node: RiverNode,
    readonly hw: Headwaters<any>,
    readonly scope: Scope,
  ) {}

  /** The river's record as it stands (records are replaced on each transition, never changed). */
  get rec(): StreamRecord {
    return this.run.record(this.node);
  }

  /** Moves the river's record through the state machine; returns the new record. */
  #apply(event: StreamEvent): StreamRecord {
    return this.run.apply(this.node, event);
  }

  /** Queues the river's record as it stands. */
  #write(): void {
    void this.run.write({ flowId: this.run.id, streams: { [this.node.id]: this.rec } });
  }

  async execute(): Promise<boolean> {
    const { node, run } = this;
    const clock = run.clock;
    if (this.rec.state === 'init') {
      this.#apply({ type: 'begin', at: clock.now() });
      if (node.input !== undefined) {
        const parsed = node.input.safeParse(this.hw.toJSON());
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(headwaters)'}: ${i.message}`);
          return this.end({
            code: 'E_INVALID_INPUT',
            message: `river ${node.name}: headwaters do not match its input schema: ${issues.join('; ')}`,
            river: node.name,
            attempts: 0,
          });
        }
      }
    }
    if (this.rec.state === 'init' || this.rec.state === 'running') {
      const failed = await this.#flowWithRetries();
      if (failed !== undefined) return this.end(failed);
      if (node.attr.cycleTimes > 0) {
        const rec = this.#apply({ type: 'cycle', dueAt: clock.now() + node.attr.cycleIntervalMs });
        const change: FlowChange = { flowId: run.id, streams: { [node.id]: rec } };
        if (node.attr.durable) run.checkpoint(this.hw, this.scope, change);
        void run.write(change);
      }
    }
    if (this.rec.state === 'cycling') {
      const failed = await this.#cycle();
      if (failed !== undefined) return this.end(failed);
    }
    return this.end(undefined);
  }

  /** flow(), retried as the attrs allow; the error that ends the river, or undefined. */
  async #flowWithRetries(): Promise<FlowError | undefined> {
    const { node, run } = this;
    const attr = node.attr;
    const found = this.rec;
    // a river found in flow() by recovery runs that attempt again; one found waiting resumes the wait
    let attempt = found.phase === 'flow' && found.attempts > 0 ? found.attempts : found.attempts + 1;
    if (found.phase === 'retry' && found.dueAt !== undefined && !(await this.#waitUntil(found.dueAt))) return this.#stopped();
    for (;;) {
      const ready = run.readyToCall();
      if (ready !== undefined) await ready;
      this.#apply({ type: 'attempt', attempt });
      // written with its history entry begun: a snapshot shows the attempt that is running
      this.#began(attempt, 'flow');
      this.#write();
      if (run.listens('river:start')) run.emit('river:start', { ...this.#event(), attempt });
      let error: Error | undefined;
      try {
        await this.#call(attempt, 0);
      } catch (err) {
        error = toError(err);
      }
      if (error === undefined) {
        this.#ended(undefined);
        return undefined;
      }
      const fe: FlowError = { code: error instanceof TimedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED', message: error.message, river: node.name, attempts: attempt };
      this.#ended(fe);
      run.checkInterrupt();
      // the flow was already stopping: this attempt failed because of it (its signal aborted, or it
      // was abandoned), so it is recorded as stopped, not as a failure of its own
      if (run.stopping && !attr.atomic) return this.#stopped();
      // a value that is not JSON fails the same way on every attempt: retrying cannot help
      const deterministic = isFatalError(error) || isVastflowError(error, 'E_NOT_SERIALIZABLE');
      const retry = !deterministic && attempt <= attr.retryTimes && (attr.atomic || !run.stopping);
      if (!retry) {
        this.#apply({ type: 'attemptFailed', error: fe });
        const why = isFatalError(error) ? ' (fatal: not retried)' : deterministic ? ' (E_NOT_SERIALIZABLE: not retried)' : '';
        return {
          code: fe.code,
          message: `river ${node.name} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}${why}: ${error.message}`,
          river: node.name,
          attempts: attempt,
          cause: error.message,
        };
      }
      const delayMs = nextDelayMs(attr, attempt, run.random);
      const waiting = this.#apply({ type: 'attemptFailed', error: fe, retryAt: run.clock.now() + delayMs });
      this.#write();
      if (run.listens('river:retry')) run.emit('river:retry', { ...this.#event(), attempt, delayMs, error: fe });
      if (run.log.isLevelEnabled?.('debug') === true) run.log.debug({ river: node.name, attempt, delayMs, err: error.message }, 'attempt failed; retrying');
      if (!(await this.#waitUntil(waiting.dueAt!))) return this.#stopped();
      attempt++;
    }
  }

  /** The polls; the error that ends the river, or undefined when cycle() returned true. */
  async #cycle(): Promise<FlowError | undefined> {
    const { node, run } = this;
    const attr = node.attr;
    while (this.rec.cycles < attr.cycleTimes) {
      if (!(await this.#waitUntil(this.rec.dueAt ?? run.clock.now()))) return this.#stopped();
      const ready = run.readyToCall();
      if (ready !== undefined) await ready;
      const poll = this.rec.cycles + 1;
      let done: boolean;
      try {
        done = (await this.#call(this.rec.attempts, poll)) === true;
      } catch (err) {
        const error = toError(err);
        const code = error instanceof TimedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED';
        const fe: FlowError = {
          code,
          message: `river ${node.name}: cycle ${poll} failed: ${error.message}`,
          river: node.name,
          attempts: this.rec.attempts,
          cause: error.message,
        };
        this.#ended(fe);
        run.checkInterrupt();
        const stopped = run.stopping && !attr.atomic;
        this.#apply(stopped ? { type: 'polled', poll } : { type: 'polled', poll, error: fe });
        return stopped ? this.#stopped() : fe;
      }
      this.#ended(undefined);
      const more = !done && poll < attr.cycleTimes;
      this.#apply(more ? { type: 'polled', poll, nextAt: run.clock.now() + attr.cycleIntervalMs } : { type: 'polled', poll });
      if (more) this.#write();
      if (run.listens('river:cycle')) run.emit('river:cycle', { ...this.#event(), cycle: poll, done });
      if (done) return undefined;
    }
    return {
      code: 'E_CYCLE_EXHAUSTED',
      message: `river ${node.name}: cycle() did not return true within ${attr.cycleTimes} polls`,
      river: node.name,
      attempts: this.rec.attempts,
    };
  }

  /** Records the river's end (with its checkpoint when durable); true on success. */
  end(error: FlowError | undefined): boolean {
    const { node, run } = this;
    // a river that can be compensated records its place in the order of successes
    const completion = error === undefined && compensable(node, run.instances) ? nextCompletion(run.records) : undefined;
    const rec = this.#apply(completion === undefined ? { type: 'end', error, at: run.clock.now() } : { type: 'end', at: run.clock.now(), completion });
    const change: FlowChange = { flowId: run.id, streams: { [node.id]: rec } };
    if (error === undefined && node.attr.durable) run.checkpoint(this.hw, this.scope, change);
    if (error !== undefined) run.fail(error, change);
    void run.write(change);
    if (run.listens('river:end')) {
      const payload = { ...this.#event(), attempts: rec.attempts, cycles: rec.cycles };
      run.emit('river:end', error === undefined ? { ...payload, state: 'success' } : { ...payload, state: 'fail', error });
    }
    return error === undefined;
  }

  /** The error of this river stopped by the flow (it failed or was cancelled meanwhile). */
  #stopped(): FlowError {
    return this.run.stoppedError(this.node.name, this.rec.attempts);
  }

  /** Starts a history entry for a call. */
  #began(attempt: number, phase: HistoryEntry['phase']): void {
    this.#apply({ type: 'call', attempt, phase, at: this.run.clock.now() });
  }

  /** Ends the latest history entry, with its error. */
  #ended(error: FlowError | undefined): void {
    this.#apply(error === undefined ? { type: 'called', at: this.run.clock.now() } : { type: 'called', at: this.run.clock.now(), error });
  }

  #event(): { flowId: string; requestId: string; river: string; streamId: string } {
    return { flowId: this.run.id, requestId: this.run.requestId, river: this.node.name, streamId: this.node.id };
  }

  /**
   * Waits until `dueAt` on the engine's clock: false when the flow stopped meanwhile. A top-level
   * river parks instead (the call throws and the flow runs this river again when it is due).
   */
  #waitUntil(dueAt: number): Promise<boolean> | boolean {
    const { run } = this;
    const atomic = this.node.attr.atomic;
    if (dueAt <= run.clock.now()) return this.#goOn();
    return run.waitUntil(dueAt, atomic).then(() => this.#goOn());
  }

  /** After a wait: throws Interrupted when the engine closes; false when the river must stop. */
  #goOn(): boolean {
    this.run.checkInterrupt();
    return this.node.attr.atomic || !this.run.stopping;
  }

  /**
   * One call of `flow()` (cycle 0) or `cycle()`, under the river's timeout: past it, the call's
   * signal aborts and the call fails at once with E_TIMEOUT, without waiting for the promise. The
   * call sees the headwaters through a view that refuses writes once the call is abandoned.
   */
  async #call(attempt: number, cycle: number): Promise<unknown> {
    const { run, node, hw } = this;
    const attr = node.attr;
    const call = new Call(node.name, attempt, cycle, attr.atomic);
    if (cycle !== 0) this.#began(cycle, 'cycle');
    const view = new AttemptHeadwaters(hw, call);
    const ctx = new CallContext(run, run.id, run.requestId, node.name, node.color, attempt, cycle, call);
    run.began(call);
    try {
      if (attr.timeoutMs === undefined) {
        const river = riverAt(run.instances, node);
        const result: unknown = cycle === 0 ? river.flow(view, ctx) : river.cycle(view, ctx);
        return isThenable(result) ? await call.settle(Promise.resolve(result)) : result;
      }
      const ms = attr.timeoutMs;
      const timer = new AbortController();
      void run.clock.sleep(ms, timer.signal).then(
        () => call.abandon(new TimedOut(node.name, cycle === 0 ? 'flow()' : 'cycle()', ms)),
        () => undefined,
      );
      try {
        const river = riverAt(run.instances, node);
        return await call.settle(Promise.resolve().then(() => (cycle === 0 ? river.flow(view, ctx) : river.cycle(view, ctx))));
      } finally {
        timer.abort();
      }
    } finally {
      run.ended(call);
    }
  }
}
