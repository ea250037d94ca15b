// PostgreSQL for specs: the server at env VASTFLOW_PG_URL (the local one by default), a fresh
// schema per test, dropped after it.
import { customAlphabet } from 'nanoid';
import pg from 'pg';
import { PostgresStore } from '../../lib/index.js';
import type { StoreKind } from './stores.js';

const fromEnv = process.env['VASTFLOW_PG_URL'] ?? '';
/** True when env VASTFLOW_PG_URL names a server: the PostgreSQL specs run only then (.ci/run sets it). */
export const HAS_PG = fromEnv !== '';
export const PG_URL = fromEnv || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Spec groups left out for want of VASTFLOW_PG_URL: the reporter names them, loudly, at the end. */
const notRun: string[] = ((globalThis as { __vastflowNotRun?: string[] }).__vastflowNotRun ??= []);

/** describe() for a group that needs PostgreSQL: registered with VASTFLOW_PG_URL, else listed as not run. */
export function describePg(title: string, fn: (this: Mocha.Suite) => void): void {
  if (HAS_PG) describe(title, fn);
  else notRun.push(title);
}

/** it() for a test that needs PostgreSQL, inside a group that does not. */
export function itPg(title: string, fn: (this: Mocha.Context) => Promise<void>): void {
  if (HAS_PG) it(title, fn);
  else notRun.push(title);
}

const schemaSuffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);

/** A schema name no test has used. */
export const schemaName = (tag = 'test'): string => `vf_${tag}_${schemaSuffix()}`;

/** Drops a test's schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A schema name no test has used, and a function that drops it. */
export function freshSchema(tag = 'test'): { schema: string; drop: () => Promise<void> } {
  const schema = schemaName(tag);
  return { schema, drop: () => dropSchema(schema) };
}

/** PostgreSQL as a store kind for engine specs: each engine opened gets its own PostgresStore on the test's schema. */
export const PG_KIND: StoreKind = {
  name: 'PostgreSQL store',
  persistent: true,
  location: () => {
    const { schema, drop } = freshSchema('engine');
    return { store: () => new PostgresStore({ connectionString: PG_URL, schema }), dispose: drop };
  },
};

/** `items` with VASTFLOW_PG_URL, else none (and `what` noted as not run). */
export function whenPg<T>(what: string, items: T[]): T[] {
  if (HAS_PG) return items;
  notRun.push(what);
  return [];
}

/** The store kinds of engine specs on PostgreSQL: PG_KIND with VASTFLOW_PG_URL, else none (noted as not run). */
export const pgKinds = (what: string): StoreKind[] => whenPg(`${what} on the PostgreSQL store`, [PG_KIND]);
