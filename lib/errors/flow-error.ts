import { types } from 'node:util';
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
  /**
   * The compensations that failed (after their retries) when the flow failed or was cancelled, in
   * the order they ran; absent when every compensation succeeded or none ran.
   */
  compensation?: CompensationFailure[];
}

/** A river whose `compensate()` failed after its retries. */
export interface CompensationFailure {
  /** The river's registered name. */
  river: string;
  /** `E_TIMEOUT` when its last attempt timed out, else `E_RIVER_FAILED`. */
  code: ErrorCode;
  message: string;
}

/** The failure that stopped a river: the river that failed first. */
export interface FlowErrorCause {
  river: string;
}

/**
 * True for an Error from any realm: `instanceof Error` fails for one made in a `node:vm` context or
 * another frame, so native errors are recognised as such, and other objects by their shape (a
 * string `name` and `message`).
 */
export function isErrorLike(value: unknown): value is Error {
  if (value instanceof Error || types.isNativeError(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { name?: unknown; message?: unknown };
  return typeof v.name === 'string' && typeof v.message === 'string';
}

/** Anything thrown, turned into an Error (user code may throw strings, plain objects, or errors of another realm). */
export function toError(thrown: unknown): Error {
  if (isErrorLike(thrown)) return thrown;
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
