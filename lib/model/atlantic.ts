import type { FlowError } from '../errors/flow-error.js';
import type { Headwaters } from './headwaters.js';

/**
 * The end of every flow: exactly one of `success()` or `fail()` runs per outcome, and its
 * completion is recorded so that recovery never repeats it. An error it throws is logged and
 * recorded on the flow; the flow's status stays as it was.
 * @example
 * class AttachVolAtlantic extends Atlantic {
 *   async success(hw: Headwaters) { await db.markReady(hw.getString('vmId')); }
 *   async fail(hw: Headwaters, error: FlowError) { await alarm(error.code, error.message); }
 * }
 */
export class Atlantic {
  /** A stable name for the registry and blueprints; default: the class name. */
  static riverName?: string;

  /** Runs when every stream succeeded. */
  success(_hw: Headwaters<any>): Promise<void> | void {}

  /** Runs when the flow failed or was cancelled (`error.code` E_CANCELLED). */
  fail(_hw: Headwaters<any>, _error: FlowError): Promise<void> | void {}
}
