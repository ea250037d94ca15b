import { abortReason, type Clock } from './clock.js';
import { durationMs, type Duration } from './duration.js';

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Options of a {@link ManualClock}. */
export interface ManualClockOptions {
  /** The clock's first reading, in ms since the epoch. @default 2026-01-01T00:00:00Z */
  startMs?: number;
  /**
   * Move the clock by itself: each wait ends at once (earliest due first) and the clock jumps
   * to its due time. For unit tests that need retries and polls to be instant. @default false
   */
  auto?: boolean;
}

/**
 * A clock that moves only when a test moves it, so that retry backoff, cycle intervals and durable
 * timers can be tested without real waits.
 * @example
 * const clock = new ManualClock();
 * const engine = await Engine.open({ store: 'memory', clock });
 * const run = await new Andes(engine).drawStream(new PollingRiver()).start();
 * await clock.sleeping();        // the river is waiting for its first poll
 * await clock.advance('1s');     // the poll runs now
 * // or let every wait end at once, the clock jumping to its due time:
 * const instant = new ManualClock({ auto: true });
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #sleepers = new Set<Sleeper>();
  #watchers: Array<{ count: number; resolve: () => void }> = [];
  readonly #auto: boolean;
  #stepping = false;

  /** @param options the start time (ms since the epoch, or in options) and whether the clock moves by itself. */
  constructor(options: number | ManualClockOptions = {}) {
    const o = typeof options === 'number' ? { startMs: options } : options;
    this.#now = o.startMs ?? 1_767_225_600_000;
    this.#auto = o.auto ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** How many sleeps are waiting for the clock to move. */
  get pending(): number {
    return this.#sleepers.size;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { due: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => {} };
      const onAbort = (): void => {
        this.#sleepers.delete(sleeper);
        reject(abortReason(signal!));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.add(sleeper);
      this.#notify();
      if (this.#auto && !this.#stepping) {
        this.#stepping = true;
        setImmediate(() => this.#step());
      }
    });
  }

  // auto mode: wake the earliest sleep, then look again on the next turn of the event loop
  #step(): void {
    const next = this.#earliest(Infinity);
    if (next === undefined) {
      this.#stepping = false;
      return;
    }
    this.#sleepers.delete(next);
    this.#now = Math.max(this.#now, next.due);
    next.resolve();
    setImmediate(() => this.#step());
  }

  #earliest(limit: number): Sleeper | undefined {
    let next: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (s.due <= limit && (next === undefined || s.due < next.due || (s.due === next.due && s.seq < next.seq))) next = s;
    }
    return next;
  }

  /** Resolves once at least `count` sleeps are waiting (the code under test has parked). */
  sleeping(count = 1): Promise<void> {
    if (this.#sleepers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ count, resolve }));
  }

  /**
   * Moves the clock forward by `by` (ms or a duration such as '2s'), waking each sleep that falls
   * due, earliest first, and letting the event loop run after each, so that work a wake-up starts
   * (store writes included) gets to go on. Sleeps started meanwhile wake too if due by the end.
   */
  async advance(by: Duration): Promise<void> {
    const ms = durationMs(by);
    if (ms === undefined) throw new TypeError(`advance: not a duration: ${JSON.stringify(by)}`);
    const target = this.#now + ms;
    for (;;) {
      await yieldToEventLoop();
      const next = this.#earliest(target);
      if (next === undefined) break;
      this.#sleepers.delete(next);
      this.#now = Math.max(this.#now, next.due);
      next.resolve();
      // let the woken code run to its next wait or write
      for (let i = 0; i < 5; i++) await yieldToEventLoop();
    }
    this.#now = target;
  }

  #notify(): void {
    const size = this.#sleepers.size;
    const ready = this.#watchers.filter((w) => w.count <= size);
    if (ready.length === 0) return;
    this.#watchers = this.#watchers.filter((w) => w.count > size);
    for (const w of ready) w.resolve();
  }
}
