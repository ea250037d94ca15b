import { abortReason, type Clock } from './clock.js';

/**
 * The longest delay `setTimeout` takes: Node runs a longer one after 1 ms (a TimeoutOverflowWarning).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock: `Date.now()` and `setTimeout`. The default of every engine. A sleep longer than
 * a timer can wait (about 24.8 days) is a chain of timers.
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      let left = ms;
      let timer: NodeJS.Timeout;
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // one timer for what it can wait, then another for the rest
      const arm = (): void => {
        if (left > MAX_TIMER_MS) {
          left -= MAX_TIMER_MS;
          timer = setTimeout(arm, MAX_TIMER_MS);
        } else timer = setTimeout(done, left);
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      arm();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
