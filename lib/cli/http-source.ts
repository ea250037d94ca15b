import type { AdminListQuery, AdminSource } from '../admin/admin-source.js';
import type { FlowSnapshot, FlowSummary } from '../engine/snapshot.js';
import type { Json } from '../model/json.js';
import type { FlowStatus, WorkerInfo } from '../store/records.js';
import { isNoFlow } from '../admin/admin-source.js';
import { CliError } from './cli-error.js';

/** The admin API of a running engine (`engine.serve()`), as the CLI's `--url` uses it. */
export class HttpSource implements Omit<AdminSource, 'subscribe'> {
  readonly #base: string;
  readonly #token: string | undefined;

  constructor(base: string, token: string | undefined) {
    this.#base = base.replace(/\/+$/, '');
    this.#token = token;
  }

  async #call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    if (method === 'POST') headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.#base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const why = (err as { cause?: { code?: string; message?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError('E_STORE_UNAVAILABLE', `cannot reach the admin server at ${this.#base}: ${why}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError('E_STORE_UNAVAILABLE', `the admin server at ${this.#base} answered ${res.status} with no JSON (is it a vastflow admin server?)`);
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new CliError(e?.code ?? `E_HTTP_${res.status}`, e?.message ?? `the admin server answered ${res.status}`);
    }
    return parsed as T;
  }

  list(query: AdminListQuery): Promise<FlowSummary[]> {
    const q = new URLSearchParams({ limit: String(query.limit) });
    if (query.status !== undefined) q.set('status', query.status);
    if (query.before !== undefined) q.set('before', query.before);
    return this.#call('GET', `/api/flows?${q}`);
  }

  async get(idOrRequestId: string): Promise<(FlowSnapshot & { mermaid?: string }) | undefined> {
    try {
      return await this.#call('GET', `/api/flows/${encodeURIComponent(idOrRequestId)}`);
    } catch (err) {
      // a 404 of no flow; not one of a path the server has no route for (--url with a wrong path)
      if (err instanceof CliError && err.code === 'E_NOT_FOUND' && isNoFlow(err.message)) return undefined;
      throw err;
    }
  }

  cancel(idOrRequestId: string, reason?: string): Promise<{ id: string; status: FlowStatus }> {
    return this.#call('POST', `/api/flows/${encodeURIComponent(idOrRequestId)}/cancel`, reason === undefined ? {} : { reason });
  }

  redrive(idOrRequestId: string): Promise<{ id: string; recorded: boolean }> {
    return this.#call('POST', `/api/flows/${encodeURIComponent(idOrRequestId)}/redrive`);
  }

  send(idOrRequestId: string, name: string, payload: Json): Promise<{ id: string }> {
    return this.#call('POST', `/api/flows/${encodeURIComponent(idOrRequestId)}/messages/${encodeURIComponent(name)}`, payload);
  }

  workers(): Promise<WorkerInfo[]> {
    return this.#call('GET', '/api/workers');
  }

  async purge(query: { before: number; status?: 'success' | 'fail' | 'cancelled' }): Promise<number> {
    return (await this.#call<{ removed: number }>('POST', '/api/purge', query)).removed;
  }
}
