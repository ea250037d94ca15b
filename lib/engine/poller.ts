import type { Clock } from '../clock/clock.js';

/** One parked wait: a retry or a poll waiting for its due time. */
export interface Wait {
  readonly due: number;
  /** Set by the poller: orders waits due at the same time. */
  seq: number;
  /** Woken or fired: the heap drops it when it reaches the top. */
  done: boolean;
  /** Called once, when the wait is due or woken. */
  onDue(): void;
}

/**
 * Every parked flow in one timer structure: a min-heap of waits by due time, and a single clock
 * sleep armed for the earliest. Parking a flow costs one small object instead of a timer and an
 * AbortController each, so 100,000 flows waiting in a cycle stay cheap; a flow that stops wakes
 * its own waits directly.
 */
export class Poller {
  readonly #clock: Clock;
  readonly #heap: Wait[] = [];
  #seq = 0;
  #woken = 0;
  #armed: { due: number; cancel: AbortController } | undefined;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many waits are parked (woken ones may still count until the heap drops them). */
  get size(): number {
    return this.#heap.length;
  }

  /** Parks `wait` until its due time (ms since the epoch, on the engine's clock), then calls its onDue(). */
  park(wait: Wait): void {
    if (this.#closed) {
      // the engine is closing: nothing waits any more
      wait.done = true;
      wait.onDue();
      return;
    }
    wait.seq = this.#seq++;
    this.#push(wait);
    if (this.#heap[0] === wait) this.#arm();
  }

  /** Ends a wait now, before its due time. */
  wake(wait: Wait): void {
    if (wait.done) return;
    wait.done = true;
    wait.onDue();
    // woken waits stay in the heap until their due time; drop them once they are a quarter of it (a dead wait still costs its object)
    if (++this.#woken > 1024 && this.#woken * 4 > this.#heap.length) this.#compact();
  }

  #compact(): void {
    const live = this.#heap.filter((w) => !w.done);
    this.#heap.length = 0;
    this.#woken = 0;
    for (const w of live) this.#push(w);
  }

  /** Wakes every wait, disarms the timer and wakes every later wait at once (the engine is closing). */
  clear(): void {
    this.#closed = true;
    for (const w of this.#heap.splice(0)) {
      if (w.done) continue; // woken already: its onDue ran
      w.done = true;
      w.onDue();
    }
    this.#woken = 0;
    this.#armed?.cancel.abort();
    this.#armed = undefined;
  }

  #arm(): void {
    const head = this.#heap[0];
    if (head === undefined) return;
    if (this.#armed !== undefined) {
      if (this.#armed.due <= head.due) return;
      this.#armed.cancel.abort();
    }
    const armed = { due: head.due, cancel: new AbortController() };
    this.#armed = armed;
    this.#clock.sleep(Math.max(0, head.due - this.#clock.now()), armed.cancel.signal).then(
      () => {
        if (this.#armed === armed) this.#armed = undefined;
        this.#fire(armed.due);
      },
      () => {},
    );
  }

  /**
   * Ends the waits that are due. `armedFor` is the due time the timer that fired was armed for:
   * Node measures timers on the event loop's clock, read at the start of the loop's turn, so a timer
   * may fire a fraction of a millisecond before `Date.now()` reaches that time. Its waits count as
   * due; re-arming for the rest would cost them a whole extra turn of a loaded loop.
   */
  #fire(armedFor: number): void {
    const now = Math.max(this.#clock.now(), armedFor);
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.due > now) break;
      this.#pop();
      if (head.done) this.#woken = Math.max(0, this.#woken - 1);
      else {
        head.done = true;
        head.onDue();
      }
    }
    this.#arm();
  }

  #less(a: Wait, b: Wait): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #push(w: Wait): void {
    const h = this.#heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
