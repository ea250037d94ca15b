import type { Engine } from './engine.js';

// The one piece of module state: the engine a bare `new Andes()` uses, opened on first use.
let current: Promise<Engine> | undefined;
let opened: Engine | undefined;

/** The default engine, opened with `open` the first time. */
export function defaultEngine(open: () => Promise<Engine>): Promise<Engine> {
  if (current === undefined) {
    current = open().then(
      (engine) => (opened = engine),
      (err: unknown) => {
        current = undefined;
        throw err;
      },
    );
  }
  return current;
}

/** Replaces the default engine; undefined makes the next use open a new one. */
export function setDefaultEngine(engine: Engine | undefined): void {
  opened = engine;
  current = engine === undefined ? undefined : Promise.resolve(engine);
}

/** Forgets `engine` if it is the default (it was closed). */
export function clearDefaultEngine(engine: Engine): void {
  if (opened === engine) setDefaultEngine(undefined);
}
