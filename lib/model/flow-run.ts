import type { FlowError } from '../errors/flow-error.js';
import type { JsonObject } from './json.js';

/** How a finished flow ended. */
export interface FlowOutcome {
  id: string;
  requestId: string;
  status: 'success' | 'fail' | 'cancelled';
  error?: FlowError;
  /** The final headwaters, as a plain object. */
  headwaters: JsonObject;
}

/** What a FlowRun needs from its engine. */
export interface FlowRunHost {
  result(id: string): Promise<FlowOutcome>;
  cancel(id: string, reason?: string): Promise<void>;
}

/** A handle on a started flow. */
export class FlowRun {
  /** The flow's id. */
  readonly id: string;
  /** The flow's requestId. */
  readonly requestId: string;
  /**
   * True when `start()` found a flow the store already held for the requestId: this is that flow,
   * and the drawing passed to start() was not used.
   */
  readonly existing: boolean;
  readonly #host: FlowRunHost;

  constructor(host: FlowRunHost, id: string, requestId: string, existing = false) {
    this.#host = host;
    this.id = id;
    this.requestId = requestId;
    this.existing = existing;
  }

  /** Resolves when the flow has ended and its Atlantic hook has run. */
  result(): Promise<FlowOutcome> {
    return this.#host.result(this.id);
  }

  /** Cancels the flow: status `cancelled`, and Atlantic.fail gets E_CANCELLED. Resolves once it has ended. */
  cancel(reason?: string): Promise<void> {
    return this.#host.cancel(this.id, reason);
  }
}
