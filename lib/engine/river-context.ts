import type { Logger } from '../logging/logger.js';
import type { RiverContext } from '../model/river-context.js';

/** The context given to one call of `flow()` or `cycle()`; its logger is made on first use. */
export class CallContext implements RiverContext {
  #log: Logger | undefined;
  readonly #parent: Logger;
  #signal: AbortSignal | (() => AbortSignal);

  constructor(
    parent: Logger,
    readonly flowId: string,
    readonly requestId: string,
    readonly river: string,
    readonly color: string,
    readonly attempt: number,
    readonly cycle: number,
    signal: AbortSignal | (() => AbortSignal),
  ) {
    this.#parent = parent;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    if (typeof this.#signal === 'function') this.#signal = this.#signal();
    return this.#signal;
  }

  get log(): Logger {
    return (this.#log ??= this.#parent.child({
      flowId: this.flowId,
      requestId: this.requestId,
      river: this.river,
      color: this.color,
      attempt: this.attempt,
    }));
  }
}
