import { VastflowError } from '../../errors/vastflow-error.js';

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// SQLSTATE: 08 connection exception; 57P01-03 the server shuts down or is starting; 53300 too many connections
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** True for an error that says the server cannot be reached now (a later call may succeed). */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (NET_CODES.has(e.code) || PG_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  // an AggregateError of every address tried (localhost as ::1 and 127.0.0.1)
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  // 'Query read timeout': no answer within the pool's query_timeout, which a partition looks like
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|connect ECONNREFUSED|Query read timeout/i.test(
    message,
  );
}

/** A connection error as E_STORE_UNAVAILABLE naming the store; any other error as it is. */
export function storeError(err: unknown, where: string, op: string): unknown {
  if (err instanceof VastflowError || !isConnectionError(err)) return err;
  const message = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  return new VastflowError('E_STORE_UNAVAILABLE', `store ${where}: ${op} failed, the database cannot be reached (${message})`, { cause: err });
}

/** Where a connection string points (`postgres user@host:port/db`), without its password. */
export function describeTarget(connectionString: string | undefined, schema: string): string {
  if (connectionString === undefined) return `postgres (pg defaults) schema ${schema}`;
  try {
    const url = new URL(connectionString);
    const user = url.username === '' ? '' : `${decodeURIComponent(url.username)}@`;
    return `postgres ${user}${url.host}${url.pathname} schema ${schema}`;
  } catch {
    // a libpq key=value string: name nothing that may be a password
    return `postgres (connection string) schema ${schema}`;
  }
}
