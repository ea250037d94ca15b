import type { ZodType } from 'zod';
import type { Headwaters } from './headwaters.js';
import { frozenJsonCopy } from './json.js';
import type { RiverAttr } from './river-attr.js';
import type { RiverContext } from './river-context.js';
import { nameOf, StreamBase } from './stream.js';

/**
 * One operation of a flow. Subclass it: `update()` sets its attributes, `flow()` does the work
 * (retried on error), `cycle()` polls until the work is done.
 * @typeParam C the river's JSON config, kept in the flow's blueprint.
 * @example
 * class CreateVmRiver extends River<{ region: string }> {
 *   update(attr: RiverAttr) { attr.retryTimes = 3; attr.cycleTimes = 10; attr.durable = true; }
 *   async flow(hw: Headwaters) { hw.put('vmId', await cloud.createVm(this.config?.region)); }
 *   async cycle(hw: Headwaters) { return (await cloud.vmStatus(hw.getString('vmId'))) === 'ACTIVE'; }
 * }
 */
export abstract class River<C = unknown> extends StreamBase {
  /** A stable name for the registry and blueprints; default: the class name. */
  static riverName?: string;
  /** A zod schema the headwaters must match before `flow()` runs; a mismatch fails with E_INVALID_INPUT. */
  static input?: ZodType;

  readonly kind = 'river' as const;
  /** The config given to the constructor: JSON, kept in the blueprint. */
  readonly config: C | undefined;

  /**
   * @param config JSON config, kept in the flow's blueprint and given back on recovery.
   * @throws VastflowError E_NOT_SERIALIZABLE when the config is not JSON (or nests past 256 levels, or has a `__proto__` key).
   */
  constructor(config?: C) {
    super();
    this.config = config === undefined ? undefined : (frozenJsonCopy(config, `config of river ${nameOf(this)}`) as C);
  }

  /** Sets the river's attributes. Called when the flow starts and again on recovery. */
  update(_attr: RiverAttr): void {}

  /** The work. Throw to fail the attempt (it is retried while `retryTimes` allows); throw FatalError to fail at once. */
  flow(_hw: Headwaters<any>, _ctx: RiverContext): Promise<void> | void {}

  /** The poll, when `cycleTimes > 0`: true when the work is done, false to poll again. */
  cycle(_hw: Headwaters<any>, _ctx: RiverContext): Promise<boolean> | boolean {
    return true;
  }

  /**
   * Optional: undoes what a successful `flow()` did, when the flow fails or is cancelled later
   * (a saga). Runs with the river's retry attributes and timeout, in the reverse order in which
   * the flow's rivers succeeded, before `Atlantic.fail()`; see docs/compensation.md.
   */
  compensate?(hw: Headwaters<any>, ctx: RiverContext): Promise<void> | void;
}
