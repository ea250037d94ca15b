import type { Logger } from '../logging/logger.js';
import type { RiverContext } from '../model/river-context.js';

/** Where a call's context takes its signal from: made on first use, released when the call ends. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/** The context given to one call of `flow()` or `cycle()`; its logger and signal are made on first use. */
export class CallContext implements RiverContext {
  #log: Logger | undefined;
  readonly #owner: { readonly log: Logger };
  readonly #signal: SignalSource;

  constructor(
    owner: { readonly log: Logger },
    readonly flowId: string,
    readonly requestId: string,
    readonly river: string,
    readonly color: string,
    readonly attempt: number,
    readonly cycle: number,
    signal: SignalSource,
  ) {
    this.#owner = owner;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal.signal;
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
