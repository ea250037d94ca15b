import type pg from 'pg';
import { isConnectionError } from './errors.js';

/** What the store's queries need of a pool: one-off queries, and a client for a transaction. */
export interface Db {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(query: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>>;
  connect(): Promise<pg.PoolClient>;
}

/**
 * A pool the caller owns, whose connections the store names `application_name` before their first
 * query of ours (the change feed tells a vastflow writer by that name). The name is set when the
 * store first takes a connection, awaited, so no query is ever queued behind it on one client.
 */
export class NamedPool implements Db {
  readonly #named = new WeakSet<pg.PoolClient>();

  constructor(
    readonly pool: pg.Pool,
    readonly name: string,
  ) {}

  async connect(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    if (this.#named.has(client)) return client;
    try {
      await client.query(`SET application_name = '${this.name}'`);
    } catch (err) {
      client.release(isConnectionError(err) ? (err as Error) : undefined);
      throw err;
    }
    this.#named.add(client);
    return client;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(query: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    try {
      const result = await client.query<R>(query, values);
      client.release();
      return result;
    } catch (err) {
      client.release(isConnectionError(err) ? (err as Error) : undefined);
      throw err;
    }
  }
}
