/** A promise with its resolve and reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * A promise settled from outside. `quiet`: a rejection nobody awaits does not crash the process
 * (whoever awaits the promise still sees it).
 */
export function deferred<T>(quiet = false): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  if (quiet) promise.catch(() => {});
  return { promise, resolve, reject };
}

/** True for a promise or any object with a `then` method: what user code returns when it is async. */
export const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';
