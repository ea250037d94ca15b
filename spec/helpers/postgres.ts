// PostgreSQL for specs: the server at env VASTFLOW_PG_URL (the local one by default), a fresh
// schema per test, dropped after it.
import { customAlphabet } from 'nanoid';
import pg from 'pg';
import { PostgresStore } from '../../lib/index.js';
import type { StoreKind } from './stores.js';

export const PG_URL = process.env['VASTFLOW_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

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
