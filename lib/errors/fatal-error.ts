import { isErrorLike } from './flow-error.js';

/**
 * Thrown by user code in `flow()` to fail the river at once, without the remaining retries.
 * @example
 * if (res.status === 404) throw new FatalError('no such order');
 */
export class FatalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
  }
}

/**
 * True for a {@link FatalError}, also one thrown by a duplicate install of the package or made in
 * another realm (a `node:vm` context): any error named 'FatalError'.
 */
export function isFatalError(err: unknown): boolean {
  return err instanceof FatalError || (isErrorLike(err) && err.name === 'FatalError');
}
