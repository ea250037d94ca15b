import type { ErrorCode } from './codes.js';
import { isVastflowError } from './vastflow-error.js';

/**
 * Why a flow or river failed, as plain JSON data: it is stored with the flow, given to
 * `Atlantic.fail()`, and returned in the flow's outcome.
 */
export interface FlowError {
  code: ErrorCode;
  message: string;
  /** The registered name of the river that failed. */
  river?: string;
  /** Attempts of `flow()` made by that river. */
  attempts?: number;
  /**
   * The message of the underlying error, when there was one; for a river stopped because another
   * failed (code E_CANCELLED), the river that failed.
   */
  cause?: string | FlowErrorCause;
}

/** The failure that stopped a river: the river that failed first. */
export interface FlowErrorCause {
  river: string;
}

/** Anything thrown, turned into an Error (user code may throw strings or plain objects). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`non-error thrown: ${String(thrown)}`);
  }
}

/** The FlowError for a VastflowError raised by the engine itself. */
export function flowErrorOf(err: unknown, river?: string, attempts?: number): FlowError {
  const e = toError(err);
  const out: FlowError = {
    code: isVastflowError(e) ? e.code : 'E_RIVER_FAILED',
    message: e.message,
  };
  if (river !== undefined) out.river = river;
  if (attempts !== undefined) out.attempts = attempts;
  if (e.cause !== undefined) out.cause = toError(e.cause).message;
  return out;
}
