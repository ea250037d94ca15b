import type { StoredFlow } from '../store/records.js';
import type { PreparedFlow } from './flow-runner.js';

/**
 * What the engine already holds of a queued flow: its prepared form (a flow it started or loaded),
 * or its record as the claim that took it read it. Absent: the flow is read when its turn comes.
 */
export type Held = PreparedFlow | StoredFlow;

/** True when the held form is ready to run (no read or rebuild needed). */
export const isPrepared = (held: Held): held is PreparedFlow => 'plan' in held;

/**
 * The concurrency window and the FIFO queue of one engine: how many flows run at once, which wait
 * (in start order, each with what the engine holds of it, see {@link Held}), and which are being
 * loaded from the store to run. Flows leave the queue oldest first, whenever a slot frees, through
 * the `start` the engine gives it; a start that cannot run its flow gives the slot back.
 *
 * A flow held at Dams gives its slot back while it holds; when its message comes or its time is
 * due it takes one again before any waiting flow does ({@link resume}), so work under way goes first.
 */
export class Admission {
  readonly #concurrency: number;
  readonly #start: (id: string, held: Held | undefined) => Promise<void>;
  readonly #open: () => boolean;
  readonly #waiting = new Map<string, Held | undefined>();
  readonly #loading = new Map<string, Promise<void>>();
  /** Parked flows that are due, waiting for a slot, in the order they became due. */
  #resumes: Array<(slotted: boolean) => void> = [];
  #active = 0;

  /**
   * @param start loads (when needed) and runs a flow whose slot is taken
   * @param open false once the engine takes no more work (closing, or its store failed)
   */
  constructor(concurrency: number, start: (id: string, held: Held | undefined) => Promise<void>, open: () => boolean) {
    this.#concurrency = concurrency;
    this.#start = start;
    this.#open = open;
  }

  /** Takes a slot for a flow that runs now, when the window has room and no flow waits before it. */
  admit(): boolean {
    if (this.#active >= this.#concurrency || this.#waiting.size > 0 || this.#resumes.length > 0) return false;
    this.#active++;
    return true;
  }

  /** Free places: the window's size less the flows running, loading, waiting and due to resume. */
  room(): number {
    return this.#concurrency - this.#active - this.#waiting.size - this.#resumes.length;
  }

  /** Takes a slot past the window (a cancelled flow, which runs no river, only its hook). */
  force(): void {
    this.#active++;
  }

  /** Gives a slot back (a flow ended, or could not start) and lets the next waiting flow run. */
  release(): void {
    this.#active--;
    this.drain();
  }

  /** Queues a flow at the end of the queue, with what the engine holds of it (else it is loaded when its turn comes). */
  enqueue(id: string, held?: Held): void {
    this.#waiting.set(id, held);
  }

  /** True while the flow waits in the queue or is being loaded to run. */
  holds(id: string): boolean {
    return this.#waiting.has(id) || this.#loading.has(id);
  }

  /** True while the flow waits in the queue. */
  queued(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** What the engine holds of a flow in the queue (undefined too when it is not queued). */
  held(id: string): Held | undefined {
    return this.#waiting.get(id);
  }

  /** Takes a flow out of the queue; what the engine held of it. */
  dequeue(id: string): Held | undefined {
    const held = this.#waiting.get(id);
    this.#waiting.delete(id);
    return held;
  }

  /** The load of a flow that left the queue to run, while it lasts. */
  loading(id: string): Promise<void> | undefined {
    return this.#loading.get(id);
  }

  /** Resolves once every flow being loaded has started or been left. */
  async loaded(): Promise<void> {
    await Promise.all(this.#loading.values());
  }

  /**
   * A parked flow is due: `run(true)` once it has a slot (at once if the window has room, or, when
   * it is `ending`, at once past the window, as {@link force}), or `run(false)` without one when
   * the engine stops taking work.
   */
  resume(run: (slotted: boolean) => void, ending = false): void {
    if (!this.#open()) return run(false);
    if (ending) {
      this.force();
      return run(true);
    }
    this.#resumes.push(run);
    this.drain();
  }

  /** Resumes due flows, then starts waiting ones, while the window has room, oldest first. */
  drain(): void {
    if (this.#resumes.length > 0 && !this.#open()) return this.#dropResumes();
    while (this.#open() && this.#active < this.#concurrency && this.#resumes.length > 0) {
      this.#active++;
      this.#resumes.shift()!(true);
    }
    while (this.#open() && this.#active < this.#concurrency && this.#waiting.size > 0) {
      const [id, held] = this.#waiting.entries().next().value as [string, Held | undefined];
      this.#waiting.delete(id);
      this.#active++;
      const started = this.#start(id, held);
      this.#loading.set(id, started);
      void started.finally(() => this.#loading.delete(id));
    }
  }

  /** Forgets the queue (the engine closes; the store keeps it); due parked flows go on without a slot, to stop. */
  clear(): void {
    this.#waiting.clear();
    this.#dropResumes();
  }

  #dropResumes(): void {
    const resumes = this.#resumes;
    this.#resumes = [];
    for (const run of resumes) run(false);
  }
}
