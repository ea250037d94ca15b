import type { Logger } from '../logging/logger.js';

/** What the engine tells a river about the call it is in. */
export interface RiverContext {
  /** The flow's id. */
  readonly flowId: string;
  /** The flow's requestId. */
  readonly requestId: string;
  /** The river's registered name. */
  readonly river: string;
  /** The river's color. */
  readonly color: string;
  /** This attempt of `flow()`, from 1. */
  readonly attempt: number;
  /** Calls of `cycle()` so far: 0 before the first poll. */
  readonly cycle: number;
  /** Aborted on timeout, and (unless the river is atomic) when the flow is cancelled or fails. */
  readonly signal: AbortSignal;
  /** A child logger bound to the flow, the river and the attempt. */
  readonly log: Logger;
}
