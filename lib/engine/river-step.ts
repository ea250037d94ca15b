import { abortReason } from '../clock/clock.js';
import { isFatalError } from '../errors/fatal-error.js';
import { toError, type FlowError } from '../errors/flow-error.js';
import { VastflowError } from '../errors/vastflow-error.js';
import type { Headwaters } from '../model/headwaters.js';
import type { FlowChange } from '../store/records.js';
import type { Branch, FlowRunner } from './flow-runner.js';
import { Interrupted } from './flow-runner.js';
import type { RiverNode } from './plan.js';
import { nextDelayMs } from './retry-policy.js';
import { CallContext } from './river-context.js';

const NEVER = new AbortController().signal;

class TimedOut extends VastflowError {
  constructor(river: string, what: string, ms: number) {
    super('E_TIMEOUT', `river ${river}: ${what} timed out after ${ms}ms`);
  }
}

/**
 * Runs one river where its record says it is: `flow()` with retries, then the cycle. Returns
 * false when the river failed (the flow is then failing). Throws Interrupted when the engine closes.
 */
export async function runRiver(run: FlowRunner, node: RiverNode, hw: Headwaters<any>, scope: string, branch: Branch): Promise<boolean> {
  const { host } = run;
  const { clock } = host;
  const attr = node.attr;
  const rec = run.records.get(node.id)!;
  const base = { flowId: run.id, requestId: run.header.requestId, river: node.name, streamId: node.id };
  if (attr.atomic) branch.atomicStarted = true;

  const end = async (error?: FlowError): Promise<boolean> => {
    rec.state = error === undefined ? 'success' : 'fail';
    rec.endedAt = clock.now();
    delete rec.phase;
    delete rec.dueAt;
    const change: FlowChange = { flowId: run.id, streams: { [node.id]: run.snapshot(node.id) } };
    if (error === undefined && attr.durable) run.checkpoint(hw, scope, change);
    if (error !== undefined) run.fail(error);
    void run.write(change);
    if (host.listens('river:end')) {
      const payload = { ...base, state: rec.state, attempts: rec.attempts, cycles: rec.cycles };
      host.emit('river:end', error === undefined ? payload : { ...payload, error });
    }
    return error === undefined;
  };
  const stopped = (): Promise<boolean> =>
    end({ code: 'E_CANCELLED', message: `river ${node.name} stopped: the flow is ${run.header.cancelReason !== undefined ? 'cancelled' : 'failing'}`, river: node.name, attempts: rec.attempts });

  // Waits until `dueAt` on the engine's clock: false when the flow stopped meanwhile.
  const waitUntil = async (dueAt: number): Promise<boolean> => {
    const ms = dueAt - clock.now();
    if (ms > 0) {
      try {
        await clock.sleep(ms, run.waitSignal(attr.atomic));
      } catch (err) {
        if (err instanceof Interrupted) throw err;
      }
    }
    run.checkInterrupt();
    return attr.atomic || !run.stopping;
  };

  if (rec.state === 'init') {
    rec.startedAt = clock.now();
    if (node.input !== undefined) {
      const parsed = node.input.safeParse(hw.toJSON());
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(headwaters)'}: ${i.message}`);
        return end({ code: 'E_INVALID_INPUT', message: `river ${node.name}: headwaters do not match its input schema: ${issues.join('; ')}`, river: node.name, attempts: 0 });
      }
    }
  }

  if (rec.state === 'init' || rec.state === 'running') {
    // a river found in flow() by recovery runs that attempt again; one found waiting resumes the wait
    let attempt = rec.phase === 'flow' && rec.attempts > 0 ? rec.attempts : rec.attempts + 1;
    if (rec.phase === 'retry' && rec.dueAt !== undefined && !(await waitUntil(rec.dueAt))) return stopped();
    for (;;) {
      run.checkInterrupt();
      rec.state = 'running';
      rec.attempts = attempt;
      rec.phase = 'flow';
      delete rec.dueAt;
      void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node.id) } });
      if (host.listens('river:start')) host.emit('river:start', { ...base, attempt });
      let error: Error | undefined;
      try {
        await call(run, node, attempt, 0, hw, 'flow()');
      } catch (err) {
        error = toError(err);
      }
      if (error === undefined) break;
      const timedOut = error instanceof TimedOut;
      const fe: FlowError = { code: timedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED', message: error.message, river: node.name, attempts: attempt };
      rec.errors = [...(rec.errors ?? []), fe];
      const retry = !isFatalError(error) && attempt <= attr.retryTimes && (attr.atomic || !run.stopping);
      if (!retry) {
        const why = isFatalError(error) ? ' (fatal: not retried)' : '';
        return end({
          code: fe.code,
          message: `river ${node.name} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}${why}: ${error.message}`,
          river: node.name,
          attempts: attempt,
          cause: error.message,
        });
      }
      const delayMs = nextDelayMs(attr, attempt, host.random);
      rec.phase = 'retry';
      rec.dueAt = clock.now() + delayMs;
      void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node.id) } });
      if (host.listens('river:retry')) host.emit('river:retry', { ...base, attempt, delayMs, error: fe });
      if (run.log.isLevelEnabled?.('debug') !== false) run.log.debug({ river: node.name, attempt, delayMs, err: error.message }, 'attempt failed; retrying');
      if (!(await waitUntil(rec.dueAt))) return stopped();
      attempt++;
    }
    if (attr.cycleTimes > 0) {
      rec.state = 'cycling';
      rec.phase = 'cycle';
      rec.dueAt = clock.now() + attr.cycleIntervalMs;
      const change: FlowChange = { flowId: run.id, streams: { [node.id]: run.snapshot(node.id) } };
      if (attr.durable) run.checkpoint(hw, scope, change);
      void run.write(change);
    }
  }

  if (rec.state === 'cycling') {
    let done = false;
    while (!done && rec.cycles < attr.cycleTimes) {
      if (!(await waitUntil(rec.dueAt ?? clock.now()))) return stopped();
      const poll = rec.cycles + 1;
      try {
        done = (await call(run, node, rec.attempts, poll, hw, 'cycle()')) === true;
      } catch (err) {
        const error = toError(err);
        const code = error instanceof TimedOut ? 'E_TIMEOUT' : 'E_RIVER_FAILED';
        rec.cycles = poll;
        const fe: FlowError = { code, message: `river ${node.name}: cycle ${poll} failed: ${error.message}`, river: node.name, attempts: rec.attempts, cause: error.message };
        rec.errors = [...(rec.errors ?? []), fe];
        return end(fe);
      }
      rec.cycles = poll;
      if (host.listens('river:cycle')) host.emit('river:cycle', { ...base, cycle: poll, done });
      if (!done && poll < attr.cycleTimes) {
        rec.dueAt = clock.now() + attr.cycleIntervalMs;
        void run.write({ flowId: run.id, streams: { [node.id]: run.snapshot(node.id) } });
      }
    }
    if (!done) {
      return end({
        code: 'E_CYCLE_EXHAUSTED',
        message: `river ${node.name}: cycle() did not return true within ${attr.cycleTimes} polls`,
        river: node.name,
        attempts: rec.attempts,
      });
    }
  }
  return end();
}

/**
 * One call of `flow()` (cycle 0) or `cycle()`, under the river's timeout: past it, the call's
 * signal aborts and the call fails at once with E_TIMEOUT, without waiting for the promise.
 */
async function call(run: FlowRunner, node: RiverNode, attempt: number, cycle: number, hw: Headwaters<any>, what: string): Promise<unknown> {
  const { host } = run;
  const attr = node.attr;
  const invoke = (signal: AbortSignal | (() => AbortSignal)): Promise<unknown> | unknown => {
    const ctx = new CallContext(run.log, run.id, run.header.requestId, node.name, node.color, attempt, cycle, signal);
    return cycle === 0 ? node.river.flow(hw, ctx) : node.river.cycle(hw, ctx);
  };
  if (attr.timeoutMs === undefined) return invoke(attr.atomic ? NEVER : () => run.flowSignal);

  const flowSignal = attr.atomic ? NEVER : run.flowSignal;
  const ms = attr.timeoutMs;
  const ctl = new AbortController();
  const onFlowAbort = (): void => ctl.abort(abortReason(flowSignal));
  if (flowSignal.aborted) onFlowAbort();
  else flowSignal.addEventListener('abort', onFlowAbort, { once: true });
  const timer = new AbortController();
  const timeout = host.clock.sleep(ms, timer.signal).then(
    () => {
      const err = new TimedOut(node.name, what, ms);
      ctl.abort(err);
      throw err;
    },
    () => undefined,
  );
  try {
    return await Promise.race([Promise.resolve().then(() => invoke(ctl.signal)), timeout]);
  } finally {
    timer.abort();
    flowSignal.removeEventListener('abort', onFlowAbort);
  }
}
