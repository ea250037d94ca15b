import type { Clock } from '../clock/clock.js';
import type { FlowError } from '../errors/flow-error.js';
import type { Logger } from '../logging/logger.js';
import type { Headwaters } from '../model/headwaters.js';
import type { FlowChange, StreamRecord } from '../store/records.js';
import type { Call } from './call.js';
import type { EngineEventName, EngineEvents } from './events.js';
import type { BasinNode, Instances, PlanNode } from './plan.js';
import type { StreamEvent } from './transitions.js';

/** Whose headwaters a sequence runs on: the flow's (`main`) or a basin's isolated copy. */
export type Scope = 'main' | BasinNode;

/** A sequence being run: a flow's top level, a parallel branch, a basin, a fork branch. */
export interface Branch {
  /** An atomic river of this sequence has started: the later atomic ones run even when the flow stops. */
  atomicStarted: boolean;
  /** A stream of this sequence failed. */
  failed: boolean;
}

/**
 * What a river's run may ask of the flow it runs in: the one seam between a RiverStep and the
 * FlowRunner, which implements it.
 */
export interface StepPort {
  /** The flow's id and requestId. */
  readonly id: string;
  readonly requestId: string;
  readonly clock: Clock;
  /** The source of retry jitter. */
  readonly random: () => number;
  /** The flow's logger (bound to flowId and requestId). */
  readonly log: Logger;
  /** True once the flow failed or was cancelled: non-atomic rivers stop. */
  readonly stopping: boolean;
  /** Each stream's record as it stands, by its node's `index`. */
  readonly records: readonly StreamRecord[];
  /** The flow's River and Fork objects, by node index. */
  readonly instances: Instances;
  /** A stream's record as it stands. */
  record(node: PlanNode): StreamRecord;
  /** Moves a stream's record through the state machine; returns the new record. */
  apply(node: PlanNode, event: StreamEvent): StreamRecord;
  /** Queues a change of the flow; resolves once it is in the store. */
  write(change: FlowChange): Promise<void>;
  /** Adds to `change` the checkpoint of `hw` (the flow's headwaters or a basin's copy). */
  checkpoint(hw: Headwaters<any>, scope: Scope, change: FlowChange): void;
  /** The flow fails with `error` (its first failure), recorded in `change`. */
  fail(error: FlowError, change: FlowChange): void;
  /** The error of a river the flow stopped. */
  stoppedError(river: string, attempts: number): FlowError;
  /** Throws when the engine is closing: the flow is left for recovery. */
  checkInterrupt(): void;
  /**
   * Before a call of the flow's code: throws when the flow must stop; undefined while the engine's
   * claims are sure; else what settles once a heartbeat told which flows it still holds
   * (rejecting for a flow lost meanwhile).
   */
  readyToCall(): Promise<void> | undefined;
  /** A call of flow() or cycle() begins or ends: the flow may abort or abandon it while it runs. */
  began(call: Call): void;
  ended(call: Call): void;
  /**
   * Waits until `due` on the engine's clock, or parks: when nothing else of the flow runs, this
   * throws, the flow unwinds, and the river runs again from its record when due. Ends early when the engine
   * closes, and, unless `atomic`, when the flow stops. A river that parked is stopped, if the flow
   * stopped meanwhile, when the flow runs again from its records.
   */
  waitUntil(due: number, atomic: boolean): Promise<void>;
  /** True when someone listens to `event`: payloads are built only then. */
  listens(event: EngineEventName): boolean;
  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void;
}
