import type pg from 'pg';
import { z } from 'zod';
import { VastflowError } from '../../errors/vastflow-error.js';

const isPool = (v: unknown): v is pg.Pool =>
  typeof v === 'object' && v !== null && typeof (v as pg.Pool).connect === 'function' && typeof (v as pg.Pool).query === 'function';

/** True for a `postgres://` or `postgresql://` connection string: a store option that names PostgreSQL. */
export const isPostgresUrl = (where: string): boolean => /^postgres(ql)?:\/\//i.test(where);

/** The schema of {@link PostgresStoreOptions}; its defaults are the documented ones. */
export const postgresStoreOptionsSchema = z.strictObject({
  connectionString: z.string().min(1, 'connectionString must be a postgres:// URL').optional(),
  pool: z.custom<pg.Pool>(isPool, 'pool must be a pg.Pool').optional(),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'schema must be a lowercase SQL identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit)')
    .default('vastflow'),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  create: z.boolean().default(true),
});

/** Options of a {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** The database to connect to (a pool of ours, ended on close). @default pg's defaults (env PGHOST, PGDATABASE, …) */
  connectionString?: string | undefined;
  /** A pool the caller owns: the store uses it and never ends it. */
  pool?: pg.Pool;
  /** The PostgreSQL schema that holds the store's tables, created on first open (unless `create: false`). @default 'vastflow' */
  schema?: string;
  /**
   * How long `open()` waits for the server before it rejects with E_STORE_UNAVAILABLE; given, it
   * wins over the engine's `worker.connectTimeout`. @default the engine's `worker.connectTimeout` (10 s)
   */
  connectTimeoutMs?: number;
  /**
   * Whether `open()` creates the schema and its tables when they are not there. With `false`, it
   * opens only a store some open has created, and rejects with E_NOT_FOUND otherwise, creating
   * nothing (the `vastflow` CLI opens stores so); a store of an older format is still migrated.
   * @default true
   */
  create?: boolean;
}

/** PostgresStore options after defaults. */
export type ResolvedPostgresStoreOptions = z.output<typeof postgresStoreOptionsSchema>;

/**
 * Checks PostgresStore options and applies the defaults.
 * @throws VastflowError E_INVALID_ARGUMENT listing `path: problem` for each bad option.
 */
export function resolvePostgresStoreOptions(options: unknown): ResolvedPostgresStoreOptions {
  const parsed = postgresStoreOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown option ${(i as { keys: string[] }).keys.join(', ')}`;
    return `${i.path.join('.') || '(options)'}: ${i.message}`;
  });
  throw new VastflowError('E_INVALID_ARGUMENT', `new PostgresStore: ${problems.join('; ')}`);
}
