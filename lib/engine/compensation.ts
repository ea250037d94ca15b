import { isFatalError } from '../errors/fatal-error.js';
import { toError, type CompensationFailure, type FlowError } from '../errors/flow-error.js';
import { isVastflowError, VastflowError } from '../errors/vastflow-error.js';
import { internals, type Headwaters } from '../model/headwaters.js';
import type { FlowChange, StreamRecord } from '../store/records.js';
import { AttemptHeadwaters } from './attempt-headwaters.js';
import { Call } from './call.js';
import { descendants, riverAt, type BasinNode, type Instances, type Plan, type PlanNode, type RiverNode } from './plan.js';
import { nextDelayMs } from './retry-policy.js';
import { CallContext } from './river-context.js';
import type { StepPort } from './runner-port.js';

/**
 * Compensation (sagas): when a flow fails or is cancelled, once its streams have settled and
 * before its end is recorded (so before Atlantic.fail), the `compensate()` of every river that
 * succeeded and defines one runs, one at a time, in the reverse order in which those rivers
 * succeeded (their `completion` numbers), with the river's retry attributes and timeout.
 *
 * Each attempt's start is in the store before `compensate()` is called, and each compensation's
 * end before the next one starts: after a crash, finished compensations never run again and the
 * unfinished one runs its attempt again (at-least-once, as `flow()`).
 */

/** True for a river that defines `compensate()` (its object in `instances`, the flow's). */
export const compensable = (n: PlanNode, instances: Instances): n is RiverNode => n.kind === 'river' && typeof riverAt(instances, n).compensate === 'function';

/** True for a basin holding a river that defines `compensate()`: its copy is kept as the basin leaves it. */
export const holdsCompensable = (n: BasinNode, instances: Instances): boolean => descendants(n).some((d) => compensable(d, instances));

/** The `completion` number of a compensable river that succeeds now: one more than the flow's highest. */
export function nextCompletion(records: readonly StreamRecord[]): number {
  let max = 0;
  for (const r of records) if (r.completion !== undefined && r.completion > max) max = r.completion;
  return max + 1;
}

/** True when a flow's compensations ran (one began at least): such a flow is never redriven. */
export function compensationsRan(streams: Record<string, StreamRecord> | readonly StreamRecord[]): boolean {
  return Object.values(streams).some((r) => r.compensation !== undefined);
}

/** What the compensations need of the flow's runner. */
export interface CompensationPort extends StepPort {
  readonly plan: Plan;
  /** The headwaters a compensation sees: the copy `basin` left (the flow's when undefined). */
  compensationHeadwaters(basin: BasinNode | undefined): Headwaters<any>;
}

/**
 * Runs the flow's compensations that have not ended (the flow failed with `error`) and returns the
 * flow's error: `error`, with `compensation` listing those that failed, when any did.
 * Throws Interrupted when the engine closes: the rest run when the flow resumes.
 */
export async function compensate(run: CompensationPort, error: FlowError): Promise<FlowError> {
  const rivers = run.plan.nodes
    .filter((n): n is RiverNode => compensable(n, run.instances))
    .filter((n) => {
      const s = run.record(n).state;
      return s === 'success' || s === 'compensated';
    });
  if (rivers.length === 0) return error;
  const basins = innermostBasins(run.plan.streams);
  // the latest success first; a record without a completion number (written before there were any) by its end
  const key = (n: RiverNode): [number, number, number] => {
    const r = run.record(n);
    return [r.completion ?? 0, r.endedAt ?? 0, n.index];
  };
  rivers.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return kb[0] - ka[0] || kb[1] - ka[1] || kb[2] - ka[2];
  });
  const failures: CompensationFailure[] = [];
  for (const node of rivers) {
    const rec = run.record(node);
    if (rec.state === 'compensated') continue;
    let failed: FlowError | undefined = rec.compensation?.state === 'fail' ? rec.compensation.error : undefined;
    if (failed === undefined) {
      const basin = basins.get(node.index);
      failed = await new Compensation(run, node, run.compensationHeadwaters(basin), basin?.id ?? 'main').execute();
    }
    if (failed !== undefined) failures.push({ river: node.name, code: failed.code, message: failed.message });
  }
  return failures.length === 0 ? error : { ...error, compensation: failures };
}

/** Each river's innermost basin, by the river's node index (rivers outside basins are absent). */
function innermostBasins(streams: PlanNode[]): Map<number, BasinNode> {
  const out = new Map<number, BasinNode>();
  const walk = (nodes: PlanNode[], basin: BasinNode | undefined): void => {
    for (const n of nodes) {
      if (n.kind === 'river') {
        if (basin !== undefined) out.set(n.index, basin);
      } else if (n.kind === 'basin') walk(n.streams, n);
      else if (n.kind === 'parallel') for (const b of n.branches) walk(b, basin);
      else if (n.kind === 'fork') for (const b of n.branches.values()) walk(b, basin);
    }
  };
  walk(streams, undefined);
  return out;
}

class CompensationTimedOut extends VastflowError {
  constructor(river: string, ms: number) {
    super('E_TIMEOUT', `river ${river}: compensate() timed out after ${ms}ms`);
  }
}

/** A call of `compensate()`: the flow's stop never aborts it (the flow has stopped already). */
class CompensateCall extends Call {
  override describe(): string {
    return `river ${this.river}: compensate() attempt ${this.attempt}`;
  }
}

/** One river's compensation, resumed where its record says it is. */
class Compensation {
  constructor(
    readonly run: CompensationPort,
    readonly node: RiverNode,
    readonly hw: Headwaters<any>,
    /** The headwaters scope `hw` is checkpointed into. */
    readonly scope: string,
  ) {}

  /** Records the river's record as it stands, with `hw`'s checkpoint; resolves once it is in the store. */
  #write(withCheckpoint: boolean): Promise<void> {
    const change: FlowChange = { flowId: this.run.id, streams: { [this.node.id]: this.run.record(this.node) } };
    if (withCheckpoint) {
      const delta = internals.drainDirty(this.hw);
      if (delta !== undefined) change.headwaters = { [this.scope]: delta };
    }
    return this.run.write(change);
  }

  #emit(status: 'start' | 'success' | 'fail', attempt: number, error?: FlowError): void {
    const { run, node } = this;
    if (!run.listens('river:compensate')) return;
    const payload = { flowId: run.id, requestId: run.requestId, river: node.name, streamId: node.id, status, attempt };
    run.emit('river:compensate', error === undefined ? payload : { ...payload, error });
  }

  /** Runs the compensation to its end; the error it failed with, or undefined when it succeeded. */
  async execute(): Promise<FlowError | undefined> {
    const { run, node } = this;
    const attr = node.attr;
    const found = run.record(node).compensation;
    // an attempt found running (a crash) runs again; one found waiting for its retry waits on
    let attempt = found === undefined ? 1 : found.state === 'running' ? found.attempts : found.attempts + 1;
    if (found?.state === 'retry' && found.dueAt !== undefined) await this.#waitUntil(found.dueAt);
    for (;;) {
      run.checkInterrupt();
      run.apply(node, { type: 'compensate', attempt, at: run.clock.now() });
      run.apply(node, { type: 'call', attempt, phase: 'compensate', at: run.clock.now() });
      // awaited: what came before (the rivers' ends, the compensations before) is in the store first
      await this.#write(false);
      // answered after a pause past the lease, the write tells nothing of the claim since
      const ready = run.readyToCall();
      if (ready !== undefined) await ready;
      this.#emit('start', attempt);
      let error: Error | undefined;
      try {
        await this.#call(attempt);
      } catch (err) {
        error = toError(err);
      }
      const at = run.clock.now();
      if (error === undefined) {
        run.apply(node, { type: 'called', at });
        run.apply(node, { type: 'compensated', at });
        await this.#write(true);
        this.#emit('success', attempt);
        return undefined;
      }
      const timedOut = error instanceof CompensationTimedOut;
      const fe: FlowError = { code: timedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED', message: error.message, river: node.name, attempts: attempt };
      run.apply(node, { type: 'called', at, error: fe });
      // closing: the attempt's failure is not recorded, and the attempt runs again when the flow resumes
      run.checkInterrupt();
      const deterministic = isFatalError(error) || isVastflowError(error, 'E_NOT_SERIALIZABLE');
      if (!deterministic && attempt <= attr.retryTimes) {
        const delayMs = nextDelayMs(attr, attempt, run.random);
        const due = run.clock.now() + delayMs;
        run.apply(node, { type: 'compensateFailed', error: fe, retryAt: due, at });
        void this.#write(true);
        if (run.log.isLevelEnabled?.('debug') === true)
          run.log.debug({ river: node.name, attempt, delayMs, err: error.message }, 'compensation failed; retrying');
        await this.#waitUntil(due);
        attempt++;
        continue;
      }
      const why = isFatalError(error) ? ' (fatal: not retried)' : deterministic ? ' (E_NOT_SERIALIZABLE: not retried)' : '';
      const failed: FlowError = {
        code: fe.code,
        message: `river ${node.name}: compensate() failed after ${attempt} attempt${attempt === 1 ? '' : 's'}${why}: ${error.message}`,
        river: node.name,
        attempts: attempt,
        cause: error.message,
      };
      run.apply(node, { type: 'compensateFailed', error: failed, at });
      await this.#write(true);
      run.log.warn({ river: node.name, attempts: attempt, err: error.message }, 'compensation failed after its retries');
      this.#emit('fail', attempt, failed);
      return failed;
    }
  }

  /** Waits until `due`: the flow has stopped, so the wait is not cut short but by the engine closing. */
  async #waitUntil(due: number): Promise<void> {
    if (due > this.run.clock.now()) await this.run.waitUntil(due, true);
    this.run.checkInterrupt();
  }

  /** One call of `compensate()` under the river's timeout, on a view of the headwaters that refuses writes once abandoned. */
  async #call(attempt: number): Promise<void> {
    const { run, node, hw } = this;
    const call = new CompensateCall(node.name, attempt, 0, true);
    const view = new AttemptHeadwaters(hw, call);
    const ctx = new CallContext(run, run.id, run.requestId, node.name, node.color, attempt, 0, call);
    run.began(call);
    const timer = new AbortController();
    try {
      const ms = node.attr.timeoutMs;
      if (ms !== undefined) {
        void run.clock.sleep(ms, timer.signal).then(
          () => call.abandon(new CompensationTimedOut(node.name, ms)),
          () => undefined,
        );
      }
      await call.settle(Promise.resolve().then(() => riverAt(run.instances, node).compensate!(view, ctx)));
    } finally {
      timer.abort();
      run.ended(call);
    }
  }
}
