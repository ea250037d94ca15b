import { isErrorLike } from '../errors/flow-error.js';

/**
 * The engine's source of time. Every read of the time and every wait goes through a Clock, so that
 * tests can swap in a {@link ManualClock} and durable timers can be computed from recorded times.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** An abort reason that is always an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return isErrorLike(r) ? r : new Error(String(r ?? 'aborted'));
}
