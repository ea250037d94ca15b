import type { PreparedFlow } from './flow-runner.js';

/**
 * The concurrency window and the FIFO queue of one engine: how many flows run at once, which wait
 * (in start order; a flow the engine has in memory keeps its prepared form), and which are being
 * loaded from the store to run. Flows leave the queue oldest first, whenever a slot frees, through
 * the `start` the engine gives it; a start that cannot run its flow gives the slot back.
 */
export class Admission {
  readonly #concurrency: number;
  readonly #start: (id: string, prepared: PreparedFlow | undefined) => Promise<void>;
  readonly #open: () => boolean;
  readonly #waiting = new Map<string, PreparedFlow | undefined>();
  readonly #loading = new Map<string, Promise<void>>();
  #active = 0;

  /**
   * @param start loads (when needed) and runs a flow whose slot is taken
   * @param open false once the engine takes no more work (closing, or its store failed)
   */
  constructor(concurrency: number, start: (id: string, prepared: PreparedFlow | undefined) => Promise<void>, open: () => boolean) {
    this.#concurrency = concurrency;
    this.#start = start;
    this.#open = open;
  }

  /** Takes a slot for a flow that runs now, when the window has room and no flow waits before it. */
  admit(): boolean {
    if (this.#active >= this.#concurrency || this.#waiting.size > 0) return false;
    this.#active++;
    return true;
  }

  /** Free places: the window's size less the flows running, loading and waiting. */
  room(): number {
    return this.#concurrency - this.#active - this.#waiting.size;
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

  /** Queues a flow at the end of the queue (`prepared` when it is in memory, else it is loaded when its turn comes). */
  enqueue(id: string, prepared?: PreparedFlow): void {
    this.#waiting.set(id, prepared);
  }

  /** True while the flow waits in the queue or is being loaded to run. */
  holds(id: string): boolean {
    return this.#waiting.has(id) || this.#loading.has(id);
  }

  /** True while the flow waits in the queue. */
  queued(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** Takes a flow out of the queue; its prepared form when the engine had it in memory. */
  dequeue(id: string): PreparedFlow | undefined {
    const prepared = this.#waiting.get(id);
    this.#waiting.delete(id);
    return prepared;
  }

  /** The load of a flow that left the queue to run, while it lasts. */
  loading(id: string): Promise<void> | undefined {
    return this.#loading.get(id);
  }

  /** Resolves once every flow being loaded has started or been left. */
  async loaded(): Promise<void> {
    await Promise.all(this.#loading.values());
  }

  /** Starts waiting flows while the window has room, oldest first. */
  drain(): void {
    while (this.#open() && this.#active < this.#concurrency && this.#waiting.size > 0) {
      const [id, prepared] = this.#waiting.entries().next().value as [string, PreparedFlow | undefined];
      this.#waiting.delete(id);
      this.#active++;
      const started = this.#start(id, prepared);
      this.#loading.set(id, started);
      void started.finally(() => this.#loading.delete(id));
    }
  }

  /** Forgets the queue (the engine closes; the store keeps it). */
  clear(): void {
    this.#waiting.clear();
  }
}
