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

/** True for a {@link FatalError}, also one thrown by a duplicate install of the package. */
export function isFatalError(err: unknown): boolean {
  return err instanceof FatalError || (err instanceof Error && err.name === 'FatalError');
}
