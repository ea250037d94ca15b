import type { FlowError } from '../errors/flow-error.js';
import type { FlowStatus, StreamState } from '../store/records.js';

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
  'flow:end': FlowEvent & { status: FlowStatus; error?: FlowError };
  'river:start': RiverEvent & { attempt: number };
  'river:retry': RiverEvent & { attempt: number; delayMs: number; error: FlowError };
  'river:cycle': RiverEvent & { cycle: number; done: boolean };
  'river:end': RiverEvent & { state: StreamState; attempts: number; cycles: number; error?: FlowError };
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
