import { isFatalError } from '../errors/fatal-error.js';
import { toError, type FlowError } from '../errors/flow-error.js';
import { isVastflowError, VastflowError } from '../errors/vastflow-error.js';
import type { Headwaters } from '../model/headwaters.js';
import type { FlowChange, HistoryEntry, StreamRecord } from '../store/records.js';
import { AttemptHeadwaters } from './attempt-headwaters.js';
import { Call } from './call.js';
import type { Branch, FlowRunner, ParkedRiver, Scope } from './flow-runner.js';
import type { RiverNode } from './plan.js';
import { nextDelayMs } from './retry-policy.js';
import { CallContext } from './river-context.js';

/** At most this many entries of a river's history are kept: the first ones and the latest. */
const HISTORY_LIMIT = 100;

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';

class TimedOut extends VastflowError {
  constructor(river: string, what: string, ms: number) {
    super('E_TIMEOUT', `river ${river}: ${what} timed out after ${ms}ms`);
  }
}

/**
 * Runs one river where its record says it is: `flow()` with retries, then the cycle. Returns
 * false when the river failed (the flow is then failing). Throws Interrupted when the engine closes.
 */
export function runRiver(run: FlowRunner, node: RiverNode, hw: Headwaters<any>, scope: Scope, branch: Branch): Promise<boolean> {
  if (node.attr.atomic) branch.atomicStarted = true;
  return new RiverStep(run, node, hw, scope).execute();
}

/** One river's run: a small object rather than closures, as many flows may be parked in one. */
class RiverStep implements ParkedRiver {
  readonly rec: StreamRecord;

  constructor(
    readonly run: FlowRunner,
    readonly node: RiverNode,
    readonly hw: Headwaters<any>,
    readonly scope: Scope,
  ) {
    this.rec = run.records[node.index]!;
  }

  async execute(): Promise<boolean> {
    const { rec, node, run } = this;
    const clock = run.host.clock;
    if (rec.state === 'init') {
      rec.startedAt = clock.now();
      if (node.input !== undefined) {
        const parsed = node.input.safeParse(this.hw.toJSON());
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(headwaters)'}: ${i.message}`);
          return this.end({ code: 'E_INVALID_INPUT', message: `river ${node.name}: headwaters do not match its input schema: ${issues.join('; ')}`, river: node.name, attempts: 0 });
        }
      }
    }
    if (rec.state === 'init' || rec.state === 'running') {
      const failed = await this.#flowWithRetries();
      if (failed !== undefined) return this.end(failed);
      if (node.attr.cycleTimes > 0) {
        rec.state = 'cycling';
        rec.phase = 'cycle';
        rec.dueAt = clock.now() + node.attr.cycleIntervalMs;
        const change: FlowChange = { flowId: run.id, streams: { [node.id]: run.snapshot(node) } };
        if (node.attr.durable) run.checkpoint(this.hw, this.scope, change);
        void run.write(change);
      }
    }
    if (rec.state === 'cycling') {
      const failed = await this.#cycle();
      if (failed !== undefined) return this.end(failed);
    }
    return this.end(undefined);
  }

  /** flow(), retried as the attrs allow; the error that ends the river, or undefined. */
  async #flowWithRetries(): Promise<FlowError | undefined> {
    const { rec, node, run } = this;
    const { host } = run;
    const attr = node.attr;
    // a river found in flow() by recovery runs that attempt again; one found waiting resumes the wait
    let attempt = rec.phase === 'flow' && rec.attempts > 0 ? rec.attempts : rec.attempts + 1;
    if (rec.phase === 'retry' && rec.dueAt !== undefined && !(await this.#waitUntil(rec.dueAt))) return this.#stopped();
    for (;;) {
      run.checkInterrupt();
      rec.state = 'running';
      rec.attempts = attempt;
      rec.phase = 'flow';
      rec.dueAt = undefined;
      void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node) } });
      if (host.listens('river:start')) host.emit('river:start', { ...this.#event(), attempt });
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
      rec.errors = [...(rec.errors ?? []), fe];
      // a value that is not JSON fails the same way on every attempt: retrying cannot help
      const deterministic = isFatalError(error) || isVastflowError(error, 'E_NOT_SERIALIZABLE');
      const retry = !deterministic && attempt <= attr.retryTimes && (attr.atomic || !run.stopping);
      if (!retry) {
        const why = isFatalError(error) ? ' (fatal: not retried)' : deterministic ? ' (E_NOT_SERIALIZABLE: not retried)' : '';
        return {
          code: fe.code,
          message: `river ${node.name} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}${why}: ${error.message}`,
          river: node.name,
          attempts: attempt,
          cause: error.message,
        };
      }
      const delayMs = nextDelayMs(attr, attempt, host.random);
      rec.phase = 'retry';
      rec.dueAt = host.clock.now() + delayMs;
      void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node) } });
      if (host.listens('river:retry')) host.emit('river:retry', { ...this.#event(), attempt, delayMs, error: fe });
      if (host.logger.isLevelEnabled?.('debug') === true) run.log.debug({ river: node.name, attempt, delayMs, err: error.message }, 'attempt failed; retrying');
      if (!(await this.#waitUntil(rec.dueAt))) return this.#stopped();
      attempt++;
    }
  }

  /** The polls; the error that ends the river, or undefined when cycle() returned true. */
  async #cycle(): Promise<FlowError | undefined> {
    const { rec, node, run } = this;
    const { host } = run;
    const attr = node.attr;
    while (rec.cycles < attr.cycleTimes) {
      if (!(await this.#waitUntil(rec.dueAt ?? host.clock.now()))) return this.#stopped();
      const poll = rec.cycles + 1;
      let done: boolean;
      try {
        done = (await this.#call(rec.attempts, poll)) === true;
      } catch (err) {
        const error = toError(err);
        rec.cycles = poll;
        const code = error instanceof TimedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED';
        const fe: FlowError = { code, message: `river ${node.name}: cycle ${poll} failed: ${error.message}`, river: node.name, attempts: rec.attempts, cause: error.message };
        this.#ended(fe);
        run.checkInterrupt();
        if (run.stopping && !attr.atomic) return this.#stopped();
        rec.errors = [...(rec.errors ?? []), fe];
        return fe;
      }
      this.#ended(undefined);
      rec.cycles = poll;
      if (host.listens('river:cycle')) host.emit('river:cycle', { ...this.#event(), cycle: poll, done });
      if (done) return undefined;
      if (poll < attr.cycleTimes) {
        rec.dueAt = host.clock.now() + attr.cycleIntervalMs;
        void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node) } });
      }
    }
    return { code: 'E_CYCLE_EXHAUSTED', message: `river ${node.name}: cycle() did not return true within ${attr.cycleTimes} polls`, river: node.name, attempts: rec.attempts };
  }

  /** Records the river's end (with its checkpoint when durable); true on success. */
  end(error: FlowError | undefined): boolean {
    const { rec, node, run } = this;
    rec.state = error === undefined ? 'success' : 'fail';
    rec.error = error;
    rec.endedAt = run.host.clock.now();
    rec.phase = undefined;
    rec.dueAt = undefined;
    const change: FlowChange = { flowId: run.id, streams: { [node.id]: run.snapshot(node) } };
    if (error === undefined && node.attr.durable) run.checkpoint(this.hw, this.scope, change);
    if (error !== undefined) run.fail(error, change);
    void run.write(change);
    if (run.host.listens('river:end')) {
      const payload = { ...this.#event(), state: rec.state, attempts: rec.attempts, cycles: rec.cycles };
      run.host.emit('river:end', error === undefined ? payload : { ...payload, error });
    }
    return error === undefined;
  }

  /** Ends the river as stopped (the flow failed or was cancelled while it was parked). */
  stop(): void {
    this.end(this.#stopped());
  }

  /** The error of this river stopped by the flow (it failed or was cancelled meanwhile). */
  #stopped(): FlowError {
    return this.run.stoppedError(this.node.name, this.rec.attempts);
  }

  /** Starts a history entry for a call. */
  #began(attempt: number, phase: HistoryEntry['phase']): void {
    const rec = this.rec;
    const entry: HistoryEntry = { attempt, phase, startedAt: this.run.host.clock.now() };
    const history = rec.history ?? [];
    // a river that polls for long keeps its first entries and its latest ones
    rec.history = history.length < HISTORY_LIMIT ? [...history, entry] : [...history.slice(0, HISTORY_LIMIT / 2), ...history.slice(HISTORY_LIMIT / 2 + 1), entry];
  }

  /** Ends the latest history entry, with its error. Entries are replaced, never changed: queued copies share them. */
  #ended(error: FlowError | undefined): void {
    const history = this.rec.history;
    const last = history?.at(-1);
    if (history === undefined || last === undefined || last.endedAt !== undefined) return;
    const done: HistoryEntry = { ...last, endedAt: this.run.host.clock.now() };
    if (error !== undefined) done.error = error;
    this.rec.history = [...history.slice(0, -1), done];
  }

  #event(): { flowId: string; requestId: string; river: string; streamId: string } {
    return { flowId: this.run.id, requestId: this.run.header.requestId, river: this.node.name, streamId: this.node.id };
  }

  /**
   * Waits until `dueAt` on the engine's clock: false when the flow stopped meanwhile. A top-level
   * river parks instead (the call throws and the flow runs this river again when it is due).
   */
  #waitUntil(dueAt: number): Promise<boolean> | boolean {
    const { run } = this;
    const atomic = this.node.attr.atomic;
    if (dueAt <= run.host.clock.now()) return this.#goOn();
    if (run.mayPark(this.node.id, atomic)) run.park(this, dueAt);
    return run.sleepUntil(dueAt, atomic).then(() => this.#goOn());
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
    this.#began(cycle === 0 ? attempt : cycle, cycle === 0 ? 'flow' : 'cycle');
    const view = new AttemptHeadwaters(hw, call);
    const ctx = new CallContext(run, run.id, run.header.requestId, node.name, node.color, attempt, cycle, call);
    run.began(call);
    try {
      if (attr.timeoutMs === undefined) {
        const result: unknown = cycle === 0 ? node.river.flow(view, ctx) : node.river.cycle(view, ctx);
        return isThenable(result) ? await call.settle(Promise.resolve(result)) : result;
      }
      const ms = attr.timeoutMs;
      const timer = new AbortController();
      void run.host.clock.sleep(ms, timer.signal).then(
        () => call.abandon(new TimedOut(node.name, cycle === 0 ? 'flow()' : 'cycle()', ms)),
        () => undefined,
      );
      try {
        return await call.settle(Promise.resolve().then(() => (cycle === 0 ? node.river.flow(view, ctx) : node.river.cycle(view, ctx))));
      } finally {
        timer.abort();
      }
    } finally {
      run.ended(call);
    }
  }
}
