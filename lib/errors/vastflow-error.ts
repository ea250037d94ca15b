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

  /**
   * `err instanceof VastflowError` holds for a VastflowError of any copy of the package, and for
   * the errors of a call given the wrong kind of argument, which are TypeErrors too.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (this !== VastflowError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isVastflowError(value);
  }
}

/** A VastflowError that is a TypeError too: see {@link misuse}. */
class VastflowTypeError extends TypeError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'VastflowError';
    this.code = code;
  }

  get [BRAND](): true {
    return true;
  }
}

/**
 * The error of a method given the wrong kind of argument (a builder given something that is not a
 * stream): a VastflowError E_INVALID_ARGUMENT (`isVastflowError`, `instanceof VastflowError`) that
 * is also a TypeError, as JavaScript's own misuse errors are, so code that catches either finds it.
 */
export function misuse(message: string): VastflowError {
  return new VastflowTypeError('E_INVALID_ARGUMENT', message) as unknown as VastflowError;
}

/**
 * True when `err` is a {@link VastflowError} (from any copy of the package), with `code` if given.
 */
export function isVastflowError(err: unknown, code?: ErrorCode): err is VastflowError {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as VastflowError).code === code;
}
