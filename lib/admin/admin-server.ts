import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { toMermaid } from '../diagram/mermaid.js';
import { isVastflowError, VastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import type { Json } from '../model/json.js';
import { FlowStatus } from '../store/records.js';
import { notFound, type AdminSource } from './admin-source.js';
import { uiDirectory, uiFile } from './static-files.js';

/** Largest request body the server reads. */
const MAX_BODY_BYTES = 1024 * 1024;
/** A comment line on every event stream this often, so that proxies keep it open. */
const KEEPALIVE_MS = 15_000;
/** An event stream whose client has not read this much is closed (its EventSource connects again). */
const MAX_STREAM_BACKLOG = 1024 * 1024;
/** How long close() lets the requests under way finish before it cuts their connections. */
const CLOSE_GRACE_MS = 3_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Options of `engine.serve()`. */
export const adminServerOptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(7411),
  host: z.string().min(1).default('127.0.0.1'),
  token: z.string().min(1, 'token must be a non-empty string (or left out)').optional(),
});

/** Options of `engine.serve()`. */
export interface AdminServerOptions {
  /** The TCP port; 0 picks a free one (see `url`). @default 7411 */
  port?: number;
  /** The interface to bind. @default '127.0.0.1' */
  host?: string;
  /** When set, every API route needs `Authorization: Bearer <token>` (`/api/events` also takes `?token=`). */
  token?: string | undefined;
}

/** A running admin server. */
export interface AdminServer {
  /** Where it listens, e.g. `http://127.0.0.1:7411`. */
  readonly url: string;
  /** Stops listening and ends every open connection and event stream. */
  close(): Promise<void>;
}

/** Checks admin server options. @throws VastflowError E_INVALID_ARGUMENT naming the option. */
export function resolveAdminServerOptions(options: unknown): z.output<typeof adminServerOptionsSchema> {
  const parsed = adminServerOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  throw new VastflowError('E_INVALID_ARGUMENT', `serve: ${describeIssues(parsed.error)}`);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) =>
      i.code === 'unrecognized_keys' ? `unknown field ${(i as { keys: string[] }).keys.join(', ')}` : `${i.path.join('.') || '(body)'}: ${i.message}`,
    )
    .join('; ');
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const LIMIT_RANGE = 'expected a whole number from 1 to 1000';
const listQuerySchema = z.strictObject({
  status: z.enum(Object.values(FlowStatus) as [FlowStatus, ...FlowStatus[]]).optional(),
  // digits only: Number() would take '' (0), '0x10' and '1e2'
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, `${LIMIT_RANGE}, in digits`)
    .transform(Number)
    .pipe(z.number().min(1, LIMIT_RANGE).max(1000, LIMIT_RANGE))
    .default(50),
  before: z.string().min(1).max(200).optional(),
  token: z.string().optional(),
});
const cancelBodySchema = z.strictObject({ reason: z.string().max(10_000).optional() }).default({});
const purgeBodySchema = z.strictObject({ before: z.number().finite().nonnegative(), status: z.enum(['success', 'fail', 'cancelled']).optional() });

/** Parses with a schema, or answers 400 naming each field. */
function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'E_INVALID_ARGUMENT', describeIssues(parsed.error));
  return parsed.data;
}

/** The query's parameters by name; one given twice is 400, not silently its last value. */
function queryObject(query: URLSearchParams): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    if (values.length > 1)
      throw new HttpError(400, 'E_INVALID_ARGUMENT', `query parameter ${JSON.stringify(key)} is given ${values.length} times; give it once`);
    out[key] = values[0]!;
  }
  return out;
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Serves the admin API (`/api/…`) and the web UI's files over `source`, with `node:http` alone:
 * a dozen routes need no framework, and the package gains no dependency and no attack surface.
 */
export async function startAdminServer(source: AdminSource, options: AdminServerOptions, logger: Logger): Promise<AdminServer> {
  const o = resolveAdminServerOptions(options);
  const log = logger.child({ component: 'admin' });
  const tokenHash = o.token === undefined ? undefined : sha(o.token);
  const ui = await uiDirectory();
  const streams = new Set<http.ServerResponse>();

  const authorized = (req: http.IncomingMessage, query: URLSearchParams, allowQuery: boolean): boolean => {
    if (tokenHash === undefined) return true;
    const header = req.headers.authorization;
    // the scheme is case-insensitive (RFC 9110 §11.1): bearer and BEARER are Bearer
    const bearer = typeof header === 'string' ? /^bearer +(.*)$/i.exec(header) : null;
    let given: string | undefined;
    if (bearer !== null) given = bearer[1]!.trim();
    else if (allowQuery) given = query.get('token') ?? undefined;
    // compared as hashes: equal lengths, in constant time
    return given !== undefined && timingSafeEqual(sha(given), tokenHash);
  };

  const routes: Array<[string, RegExp, (m: string[], q: URLSearchParams, body: () => Promise<unknown>, res: http.ServerResponse) => Promise<unknown>]> = [
    ['GET', /^\/api\/flows$/, async (_m, q) => source.list(parse(listQuerySchema, queryObject(q)))],
    [
      'GET',
      /^\/api\/flows\/([^/]+)$/,
      async ([id]) => {
        const snap = await source.get(id!);
        if (snap === undefined) throw new HttpError(404, 'E_NOT_FOUND', notFound(id!).message);
        return { ...snap, mermaid: toMermaid(snap) };
      },
    ],
    ['POST', /^\/api\/flows\/([^/]+)\/cancel$/, async ([id], _q, body) => source.cancel(id!, parse(cancelBodySchema, await body()).reason)],
    [
      'POST',
      /^\/api\/flows\/([^/]+)\/redrive$/,
      async ([id], _q, body) => {
        parse(z.strictObject({}).optional(), await body());
        return source.redrive(id!);
      },
    ],
    ['POST', /^\/api\/flows\/([^/]+)\/messages\/([^/]+)$/, async ([id, name], _q, body) => source.send(id!, name!, ((await body()) ?? null) as Json)],
    ['GET', /^\/api\/workers$/, async () => source.workers()],
    ['POST', /^\/api\/purge$/, async (_m, _q, body) => ({ removed: await source.purge(parse(purgeBodySchema, await body())) })],
  ];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    // host names are case-insensitive (RFC 9110)
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    // a page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host
    if (LOOPBACK.has(o.host) && !LOOPBACK.has(hostName)) throw new HttpError(400, 'E_INVALID_ARGUMENT', `Host ${hostName || '(none)'} is not this server's`);
    if (!url.pathname.startsWith('/api/')) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(404, 'E_NOT_FOUND', `no route ${method} ${url.pathname}`);
      const file = await uiFile(ui, url.pathname);
      if (file === undefined) throw new HttpError(404, 'E_NOT_FOUND', `no file ${url.pathname}`);
      res.writeHead(200, {
        'content-type': file.type,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      });
      res.end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    // HEAD is GET without the body: node:http sends the headers and drops what is written after them
    const asMethod = method === 'HEAD' ? 'GET' : method;
    if (url.pathname === '/api/events' && asMethod === 'GET') {
      if (!authorized(req, url.searchParams, true))
        throw new HttpError(401, 'E_UNAUTHORIZED', 'a valid token is needed: Authorization: Bearer <token>, or ?token= on /api/events');
      return events(res, method === 'HEAD');
    }
    if (!authorized(req, url.searchParams, false)) throw new HttpError(401, 'E_UNAUTHORIZED', 'a valid token is needed: Authorization: Bearer <token>');
    for (const [m, re, fn] of routes) {
      const match = re.exec(url.pathname);
      if (match === null || m !== asMethod) continue;
      let parts: string[];
      try {
        parts = match.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        throw new HttpError(400, 'E_INVALID_ARGUMENT', `malformed path ${url.pathname}`);
      }
      if (method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        // also keeps other sites' pages from posting here: their forms cannot send this type
        throw new HttpError(400, 'E_INVALID_ARGUMENT', 'POST bodies must be sent with Content-Type: application/json');
      }
      const result = await fn(parts, url.searchParams, () => readJson(req), res);
      json(res, 200, result);
      return;
    }
    // a path some route takes, by another method: 405 and the methods it takes; else no route at all
    const takes = [...new Set([...(url.pathname === '/api/events' ? ['GET'] : []), ...routes.filter(([, re]) => re.test(url.pathname)).map(([m]) => m)])];
    if (takes.length > 0) {
      const allow = takes.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
      throw new HttpError(405, 'E_INVALID_ARGUMENT', `${method} ${url.pathname}: method not allowed; use ${takes.join(' or ')}`, { allow: allow.join(', ') });
    }
    throw new HttpError(404, 'E_NOT_FOUND', `no route ${method} ${url.pathname}`);
  };

  const events = (res: http.ServerResponse, head: boolean): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (head) {
      res.end();
      return;
    }
    res.write('retry: 2000\n: connected\n\n');
    streams.add(res);
    // a client that stops reading (a stalled network, a paused tab's socket) would have every event
    // buffered here for ever: past the backlog its stream is cut, and the browser connects again
    // and reads the page afresh (the UI does on every reconnect)
    const send = (text: string): void => {
      if (res.destroyed) return;
      if (res.writableLength > MAX_STREAM_BACKLOG) {
        log.warn({ backlog: res.writableLength }, 'admin: an event stream client stopped reading; its stream is closed');
        res.destroy();
        return;
      }
      res.write(text);
    };
    const unsubscribe = source.subscribe((name, payload) => send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`));
    const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    res.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(res);
    });
  };

  /** The requests being answered (event streams included); close() waits for them. */
  const answering = new Set<http.ServerResponse>();
  let afterAnswers: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    answering.add(res);
    res.on('close', () => {
      answering.delete(res);
      if (answering.size === 0) afterAnswers?.();
    });
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return json(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      if (isVastflowError(err)) {
        const status = statusOf(err.code);
        // E_CLOSED: the engine is closing, which is no failure of the server's
        if (status >= 500 && err.code !== 'E_CLOSED') log.error({ err }, 'admin: request failed');
        return json(res, status, { error: { code: err.code, message: err.message } });
      }
      log.error({ err, url: req.url }, 'admin: request failed');
      json(res, 500, { error: { code: 'E_INTERNAL', message: 'the request failed; see the server log' } });
    });
  });
  // what node:http refuses before a handler runs (headers too large, a malformed request) is
  // answered as every other error is, with a JSON body, rather than Node's bare status line
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message =
      status === 431 ? 'the request headers are too large' : status === 408 ? 'the request took too long' : `a malformed request (${err.code ?? err.message})`;
    const body = JSON.stringify({ error: { code: 'E_INVALID_ARGUMENT', message } });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new VastflowError('E_INVALID_ARGUMENT', `serve: cannot listen on ${o.host}:${o.port}: ${err.message}`, { cause: err })),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url, token: tokenHash !== undefined }, 'admin server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        // no new connection; a request under way is answered (its result, or 503 E_CLOSED from the
        // closing engine) before the connections close, within the grace
        server.close(() => resolve());
        const cut = (): void => {
          clearTimeout(grace);
          server.closeAllConnections();
        };
        const grace = setTimeout(cut, CLOSE_GRACE_MS);
        if (answering.size === 0) cut();
        else afterAnswers = cut;
      });
      return closing;
    },
  };
}

function statusOf(code: string): number {
  switch (code) {
    case 'E_NOT_FOUND':
      return 404;
    case 'E_CONFLICT':
      return 409;
    case 'E_CLOSED':
    case 'E_STORE_UNAVAILABLE':
      return 503;
    case 'E_STORE_CORRUPT':
    case 'E_UNKNOWN_CLASS':
      return 500;
    default:
      return 400;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body ?? null);
  // the length set here, not by node at end(): a HEAD answer (no body) carries the GET's length
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** The request's JSON body (undefined when empty), at most MAX_BODY_BYTES. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // the rest of the body is never read: the connection closes after the answer, and says so, or a
    // keep-alive client would send its next request on a connection the server is about to reset
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'E_INVALID_ARGUMENT', `the request body is larger than ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'E_INVALID_ARGUMENT', 'the request body is not JSON');
  }
}
