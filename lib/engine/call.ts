import { deferred, type Deferred } from '../util/deferred.js';
import type { AttemptGate } from './attempt-headwaters.js';
import type { SignalSource } from './river-context.js';

/**
 * One call of a river's `flow()` or `cycle()`: its own signal (made on first use, so a call that
 * never reads `ctx.signal` costs no AbortController and leaves no listener behind), and its
 * abandonment. An abandoned call is no longer awaited: its promise is raced away, its signal
 * aborts, and its headwaters view refuses writes.
 */
export class Call implements AttemptGate, SignalSource {
  abandoned: Error | undefined;
  #ctl: AbortController | undefined;
  #abortedWith: Error | undefined;
  #race: Deferred<never> | undefined;

  constructor(
    readonly river: string,
    readonly attempt: number,
    /** 0 for `flow()`, else the poll's number. */
    readonly cycle: number,
    /** An atomic river's call is not stopped by the flow failing or being cancelled. */
    readonly atomic: boolean,
  ) {}

  describe(): string {
    return this.cycle === 0 ? `river ${this.river}: flow() attempt ${this.attempt}` : `river ${this.river}: cycle() poll ${this.cycle}`;
  }

  get signal(): AbortSignal {
    if (this.#ctl === undefined) {
      this.#ctl = new AbortController();
      if (this.#abortedWith !== undefined) this.#ctl.abort(this.#abortedWith);
    }
    return this.#ctl.signal;
  }

  /** Aborts the call's signal: the flow stopped, or the call timed out. */
  abort(reason: Error): void {
    if (this.#abortedWith !== undefined) return;
    this.#abortedWith = reason;
    this.#ctl?.abort(reason);
  }

  /** Gives up on the call: what it awaits rejects with `reason` at once, its writes are refused. */
  abandon(reason: Error): void {
    if (this.abandoned !== undefined) return;
    this.abandoned = reason;
    this.abort(reason);
    this.#race?.reject(reason);
  }

  /** The call's result, or its abandonment, whichever comes first. */
  settle<T>(result: Promise<T>): Promise<T> {
    if (this.abandoned !== undefined) return Promise.reject(this.abandoned);
    this.#race ??= deferred<never>(true);
    return Promise.race([result, this.#race.promise]);
  }
}
