// What the router hands each page, and what a page gives back.

/** The route's parts: `#/flows/abc?x=1` → path ['flows', 'abc'], params x=1. */
export interface Route {
  path: string[];
  params: URLSearchParams;
}

export interface ViewContext {
  route: Route;
  /** Reports an error the page cannot show itself (a 401 brings up the token prompt). */
  fail(err: unknown): void;
}

/** Renders a page into `root`; returns what stops its timers and listeners. */
export type View = (root: HTMLElement, ctx: ViewContext) => () => void;

/**
 * Calls `fn` once, `ms` after the first of a burst of calls (the calls during the wait join it), so
 * a steady stream of events redraws at most once every `ms` and never starves.
 */
export function coalesce(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const call = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
  call.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
