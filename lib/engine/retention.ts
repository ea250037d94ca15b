import { z } from 'zod';
import { VastflowError } from '../errors/vastflow-error.js';
import type { PurgeQuery } from '../store/records.js';
import type { Logger } from '../logging/logger.js';

/** The first purge runs this long after the engine opens. */
const FIRST_RUN_MS = 1_000;
/** Purges run at most this often, and at least this often. */
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 3_600_000;

/**
 * The engine's background purge (`Engine.open({ retention })`): soon after open, then every tenth
 * of the retention (between a second and an hour), it removes ended flows older than the retention.
 * Its timer is unref'd: it never keeps a process alive.
 */
export class Retention {
  readonly #purge: () => Promise<number>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(retentionMs: number, purge: () => Promise<number>, logger: Logger) {
    this.#purge = purge;
    this.#logger = logger;
    this.#intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, retentionMs / 10));
  }

  start(): void {
    this.#arm(Math.min(FIRST_RUN_MS, this.#intervalMs));
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
        this.#arm(this.#intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    try {
      const removed = await this.#purge();
      this.#logger.debug({ removed }, 'retention: purged ended flows');
    } catch (err) {
      if (!this.#stopped) this.#logger.warn({ err }, 'retention: the purge failed; it runs again later');
    }
  }

  /** Stops the timer and waits for a purge under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}

/** What `engine.purge()` takes. */
export interface PurgeOptions {
  /** Ended flows last updated before this (ms since the epoch, or a Date) are deleted. */
  before: number | Date;
  /** Only flows of this status. */
  status?: 'success' | 'fail' | 'cancelled';
}

const purgeSchema = z.strictObject({
  before: z.union([z.number().finite().nonnegative(), z.date().refine((d) => !Number.isNaN(d.getTime()), 'an invalid Date')], {
    error: 'before must be ms since the epoch (a number >= 0) or a Date',
  }),
  status: z.enum(['success', 'fail', 'cancelled'], { error: 'status must be success, fail or cancelled (only ended flows are purged)' }).optional(),
});

/** Checks purge options. @throws VastflowError E_INVALID_ARGUMENT naming the field. */
export function resolvePurgeQuery(options: unknown): PurgeQuery {
  const parsed = purgeSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `unknown field ${(i as { keys: string[] }).keys.join(', ')}` : `${i.path.join('.') || '(options)'}: ${i.message}`,
    );
    throw new VastflowError('E_INVALID_ARGUMENT', `purge: ${problems.join('; ')}`);
  }
  const { before, status } = parsed.data;
  const query: PurgeQuery = { before: typeof before === 'number' ? before : before.getTime() };
  if (status !== undefined) query.status = status;
  return query;
}
