import type { ErrorCode } from './codes.js';

const BRAND = Symbol.for('vastflow.VastflowError');

/**
 * The one error class vastflow throws. Branch on {@link VastflowError.code}.
 * @example
 * try { await andes.start(); } catch (err) { if (isVastflowError(err, 'E_INVALID_ATTR')) ... }
 */
export class VastflowError extends Error {
  /** The contract's code for this error (see docs/errors.md). */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VastflowError';
    this.code = code;
  }

  /** Marks instances so that {@link isVastflowError} works across duplicate installs. */
  get [BRAND](): true {
    return true;
  }
}

/**
 * True when `err` is a {@link VastflowError} (from any copy of the package), with `code` if given.
 */
export function isVastflowError(err: unknown, code?: ErrorCode): err is VastflowError {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as VastflowError).code === code;
}
