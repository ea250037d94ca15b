import { z } from 'zod';
import type { LoggerOptions } from 'pino';
import type { Clock } from '../clock/clock.js';
import { DURATION_FORMS, DURATION_MAX, durationMs, MAX_DURATION_MS, type Duration } from '../clock/duration.js';
import { VastflowError } from '../errors/vastflow-error.js';
import { isLogger, type Logger } from '../logging/logger.js';
import { isStore, type Store } from '../store/store.js';
import { isRegistrable, type RegistrableClass } from './registry.js';

const isClock = (v: unknown): v is Clock =>
  typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function' && typeof (v as Clock).sleep === 'function';

/** The schema of {@link EngineOptions}; its defaults are the documented ones. */
export const engineOptionsSchema = z.strictObject({
  store: z
    .union([
      z.string().min(1, 'store must be a directory path, "memory", or a Store'),
      z.custom<Store>(isStore, 'store must be a directory path, "memory", or a Store'),
    ])
    .default(() => process.env['VASTFLOW_DB'] || '.vastflow'),
  logger: z.union([z.custom<Logger>(isLogger), z.custom<LoggerOptions>((v) => typeof v === 'object' && v !== null && !isLogger(v))]).optional(),
  concurrency: z.number().int().positive().default(500),
  recover: z.boolean().default(true),
  classes: z.array(z.custom<RegistrableClass>(isRegistrable, 'classes must be River, Fork or Atlantic subclasses')).default([]),
  sync: z.boolean().default(false),
  clock: z.custom<Clock>(isClock, 'clock must have now() and sleep()').optional(),
  random: z.custom<() => number>((v) => typeof v === 'function', 'random must be a function').optional(),
  closeTimeout: z
    .custom<Duration>((v) => durationMs(v) !== undefined, `closeTimeout must be ${DURATION_FORMS}`)
    .transform((v) => durationMs(v)!)
    .refine((ms) => ms <= MAX_DURATION_MS, `closeTimeout must be ${DURATION_MAX}`)
    .default(10_000),
});

/**
 * Options of {@link Engine.open}.
 */
export interface EngineOptions {
  /** A LevelDB directory, `'memory'`, or a Store. @default env VASTFLOW_DB, else '.vastflow' */
  store?: string | Store;
  /** A pino logger, or pino options. @default pino at env VASTFLOW_LOG_LEVEL, else 'warn' */
  logger?: Logger | LoggerOptions;
  /** Most flows running at once; the rest wait in a durable FIFO queue. @default 500 */
  concurrency?: number;
  /** Resume the unfinished flows found in the store. @default true */
  recover?: boolean;
  /** River, Fork and Atlantic classes to register (needed for recovery and fromJSON). @default [] */
  classes?: RegistrableClass[];
  /** fsync every store write (a LevelDB store only). @default false */
  sync?: boolean;
  /** The engine's clock; a ManualClock makes waits instant in tests. @default the system clock */
  clock?: Clock;
  /** The source of jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** How long close() lets running attempts settle, up to '3650d'. @default '10s' */
  closeTimeout?: Duration;
}

/** Engine options after defaults. */
export type ResolvedEngineOptions = z.output<typeof engineOptionsSchema>;

/**
 * Checks engine options and applies the defaults.
 * @throws VastflowError E_INVALID_ARGUMENT listing `path: problem` for each bad option.
 */
export function resolveEngineOptions(options: unknown): ResolvedEngineOptions {
  const parsed = engineOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown option ${(i as { keys: string[] }).keys.join(', ')}`;
    return `${i.path.join('.') || '(options)'}: ${i.message}`;
  });
  throw new VastflowError('E_INVALID_ARGUMENT', `Engine.open: ${problems.join('; ')}`);
}
