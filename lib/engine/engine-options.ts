import { z } from 'zod';
import type { LoggerOptions } from 'pino';
import type { Clock } from '../clock/clock.js';
import { DURATION_FORMS, DURATION_MAX, durationMs, MAX_DURATION_MS, type Duration } from '../clock/duration.js';
import { VastflowError } from '../errors/vastflow-error.js';
import { isLogger, type Logger } from '../logging/logger.js';
import { isStore, type Store } from '../store/store.js';
import { isRegistrable, type RegistrableClass } from './registry.js';

const duration = (name: string, fallback: number) =>
  z
    .custom<Duration>((v) => durationMs(v) !== undefined, `${name} must be ${DURATION_FORMS}`)
    .transform((v) => durationMs(v)!)
    .refine((ms) => ms <= MAX_DURATION_MS, `${name} must be ${DURATION_MAX}`)
    .default(fallback);

const workerSchema = z
  .strictObject({
    id: z.string().min(1, 'worker.id must be a non-empty string').optional(),
    leaseTime: duration('worker.leaseTime', 30_000),
    heartbeat: duration('worker.heartbeat', 5_000),
    reconnectFor: duration('worker.reconnectFor', 60_000),
    connectTimeout: duration('worker.connectTimeout', 10_000),
    listen: z.boolean().default(true),
  })
  .refine((w) => w.leaseTime > 0 && w.heartbeat > 0, 'worker.leaseTime and worker.heartbeat must be more than 0')
  .refine((w) => w.heartbeat < w.leaseTime, 'worker.heartbeat must be shorter than worker.leaseTime, or every claim would lapse between two heartbeats');

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
  concurrency: z.number().int().nonnegative().default(500),
  recover: z.boolean().default(true),
  classes: z.array(z.custom<RegistrableClass>(isRegistrable, 'classes must be River, Fork or Atlantic subclasses')).default([]),
  sync: z.boolean().default(false),
  clock: z.custom<Clock>(isClock, 'clock must have now() and sleep()').optional(),
  random: z.custom<() => number>((v) => typeof v === 'function', 'random must be a function').optional(),
  closeTimeout: duration('closeTimeout', 10_000),
  worker: workerSchema.default(() => workerSchema.parse({})),
  retention: z
    .custom<Duration>((v) => (durationMs(v) ?? 0) > 0, `retention must be more than 0: ${DURATION_FORMS}`)
    .transform((v) => durationMs(v)!)
    .refine((ms) => ms <= MAX_DURATION_MS, `retention must be ${DURATION_MAX}`)
    .optional(),
});

/**
 * Options of {@link Engine.open}.
 */
export interface EngineOptions {
  /**
   * A LevelDB directory, `'memory'`, a `postgres://` or `postgresql://` URL, or a Store.
   * @default env VASTFLOW_DB, else '.vastflow'
   */
  store?: string | Store | undefined;
  /** A pino logger, or pino options. @default pino at env VASTFLOW_LOG_LEVEL, else 'warn' */
  logger?: Logger | LoggerOptions;
  /**
   * Most flows running at once; the rest wait in a durable FIFO queue. `0` opens a client engine
   * on a shared store (PostgreSQL): it starts, queries, cancels and redrives, and runs no flow.
   * @default 500
   */
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
  /** This engine as one of many on a shared store (see {@link WorkerOptions}). */
  worker?: WorkerOptions;
  /**
   * Purge ended flows older than this in the background (see `engine.purge`): soon after open,
   * then periodically. @default none: flows are kept
   */
  retention?: Duration;
}

/** How an engine shares a store (PostgreSQL) with other engines. */
export interface WorkerOptions {
  /** The engine's name among the store's engines. @default host:pid:random */
  id?: string;
  /** How long the engine's claims outlive its last heartbeat. @default '30s' */
  leaseTime?: Duration;
  /** How often the engine renews its claims, and checks for commands and runnable flows. @default '5s' */
  heartbeat?: Duration;
  /** How long the engine retries a lost database connection before it closes. @default '1m' */
  reconnectFor?: Duration;
  /** How long Engine.open waits for the database. @default '10s' */
  connectTimeout?: Duration;
  /**
   * Hear of other engines' writes at once through LISTEN/NOTIFY. Turn it off behind a pooler in
   * transaction mode (pgbouncer), where LISTEN does not work: engines then look at every heartbeat.
   * @default true
   */
  listen?: boolean;
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
