/**
 * Every error code vastflow raises. The code is the contract: branch on it, not on messages.
 * See docs/errors.md for when each happens and what to do.
 */
export const ErrorCode = Object.freeze({
  E_INVALID_ARGUMENT: 'E_INVALID_ARGUMENT',
  E_NOT_SERIALIZABLE: 'E_NOT_SERIALIZABLE',
  E_INVALID_ATTR: 'E_INVALID_ATTR',
  E_EMPTY_FLOW: 'E_EMPTY_FLOW',
  E_DUPLICATE_STREAM: 'E_DUPLICATE_STREAM',
  E_RIVER_FAILED: 'E_RIVER_FAILED',
  E_CYCLE_EXHAUSTED: 'E_CYCLE_EXHAUSTED',
  E_TIMEOUT: 'E_TIMEOUT',
  E_CANCELLED: 'E_CANCELLED',
  E_NO_BRANCH: 'E_NO_BRANCH',
  E_INVALID_INPUT: 'E_INVALID_INPUT',
  E_BLUEPRINT: 'E_BLUEPRINT',
  E_UNKNOWN_CLASS: 'E_UNKNOWN_CLASS',
  E_DUPLICATE_NAME: 'E_DUPLICATE_NAME',
  E_STORE_LOCKED: 'E_STORE_LOCKED',
  E_STORE_CORRUPT: 'E_STORE_CORRUPT',
  E_CLOSED: 'E_CLOSED',
  E_STORE_UNAVAILABLE: 'E_STORE_UNAVAILABLE',
  E_NOT_FOUND: 'E_NOT_FOUND',
  E_CONFLICT: 'E_CONFLICT',
} as const);

/** One of the contract's error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
