import type { FlowError } from '../errors/flow-error.js';
import type { FlowOutcome } from '../model/flow-run.js';

interface FlowEvent {
  flowId: string;
  requestId: string;
}
interface RiverEvent extends FlowEvent {
  /** The river's registered name. */
  river: string;
  /** The river's position in the drawing. */
  streamId: string;
}

/** The payload of each engine event. */
export interface EngineEvents {
  'flow:start': FlowEvent;
  /** The flow ended: the status it ended in, and its error unless it succeeded. */
  'flow:end': FlowEvent & { status: FlowOutcome['status']; error?: FlowError };
  'river:start': RiverEvent & { attempt: number };
  'river:retry': RiverEvent & { attempt: number; delayMs: number; error: FlowError };
  'river:cycle': RiverEvent & { cycle: number; done: boolean };
  /** A river ended: `success`, or `fail` with its error (also when the flow stopped it). */
  'river:end': RiverEvent & { state: 'success' | 'fail'; attempts: number; cycles: number; error?: FlowError };
  /** A Dam consumed a message of this name. */
  'flow:message': FlowEvent & { name: string };
  /**
   * A river's compensation: `start` at each attempt of `compensate()`, then `success`, or `fail`
   * (with `error`) once it has run out of retries.
   */
  'river:compensate': RiverEvent & { status: 'start' | 'success' | 'fail'; attempt: number; error?: FlowError };
}

/** An engine event's name. */
export type EngineEventName = keyof EngineEvents;

const NAMES: Record<EngineEventName, true> = {
  'flow:start': true,
  'flow:end': true,
  'river:start': true,
  'river:retry': true,
  'river:cycle': true,
  'river:end': true,
  'flow:message': true,
  'river:compensate': true,
};

/** Every engine event's name, in the contract's order. */
export const ENGINE_EVENT_NAMES = Object.keys(NAMES) as readonly EngineEventName[];

/** True for the name of an engine event. */
export function isEngineEventName(name: unknown): name is EngineEventName {
  return typeof name === 'string' && Object.hasOwn(NAMES, name);
}
