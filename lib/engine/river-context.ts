import type { Logger } from '../logging/logger.js';
import type { RiverContext } from '../model/river-context.js';

/** The context given to one call of `flow()` or `cycle()`; its logger and signal are made on first use. */
export class CallContext implements RiverContext {
  #log: Logger | undefined;
  readonly #owner: { readonly log: Logger };
  #signal: AbortSignal | (() => AbortSignal);

  constructor(
    owner: { readonly log: Logger },
    readonly flowId: string,
    readonly requestId: string,
    readonly river: string,
    readonly color: string,
    readonly attempt: number,
    readonly cycle: number,
    signal: AbortSignal | (() => AbortSignal),
  ) {
    this.#owner = owner;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    if (typeof this.#signal === 'function') this.#signal = this.#signal();
    return this.#signal;
  }

  get log(): Logger {
    // the owner's logger is bound to flowId and requestId already
    return (this.#log ??= this.#owner.log.child({
      river: this.river,
      color: this.color,
      attempt: this.attempt,
    }));
  }
}
