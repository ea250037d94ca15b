import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { Dam, Engine, Headwaters, PostgresStore, type AdminServer } from '../../lib/index.js';
import { uiFile, PLACEHOLDER } from '../../lib/admin/static-files.js';
import { forEachStore, rejects, silent, startFlow, until, useEngines } from '../helpers/stores.js';
import { Flaky, Hold, Ok, Stubborn } from './rivers.js';
import { PG_URL, dropSchema, schemaName, describePg } from '../helpers/postgres.js';

const CLASSES = [Ok, Flaky, Hold, Stubborn];

/** A JSON request to the admin server. */
async function call(admin: AdminServer, method: string, p: string, options: { body?: unknown; token?: string; raw?: string; type?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (method === 'POST' && options.type !== null) headers['content-type'] = options.type ?? 'application/json';
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(admin.url + p, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

/** Reads server-sent events from `url` until `enough(events)` holds; then stops reading. */
async function readEvents(
  url: string,
  start: () => Promise<unknown>,
  enough: (events: Array<{ event: string; data: any }>) => boolean,
  headers: Record<string, string> = {},
) {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
  const events: Array<{ event: string; data: any }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  await start();
  const timer = setTimeout(() => ac.abort(), 8000);
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

forEachStore((kind) => {
  describe('engine.serve(): the admin API', () => {
    const engines = useEngines(kind);
    let engine: Engine;
    let admin: AdminServer;
    beforeEach(async () => {
      Flaky.failing = true;
      engine = await engines.open({ classes: CLASSES });
      admin = await engine.serve({ port: 0 });
    });

    it('binds 127.0.0.1 by default and lists flows newest first, by status, in pages', async () => {
      expect(admin.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await startFlow(engine, [i === 2 ? new Flaky() : new Ok()], new Headwaters(`r${i}`)));
      for (const r of runs) await r.result();
      const all = await call(admin, 'GET', '/api/flows');
      expect(all.status).to.equal(200);
      expect(all.json.map((f: { requestId: string }) => f.requestId)).to.deep.equal(['r4', 'r3', 'r2', 'r1', 'r0']);
      expect(Object.keys(all.json[0]).sort()).to.deep.equal(['createdAt', 'id', 'requestId', 'status', 'updatedAt']);
      const failed = await call(admin, 'GET', '/api/flows?status=fail');
      expect(failed.json.map((f: { requestId: string }) => f.requestId)).to.deep.equal(['r2']);
      const page1 = await call(admin, 'GET', '/api/flows?limit=2');
      expect(page1.json.map((f: { requestId: string }) => f.requestId)).to.deep.equal(['r4', 'r3']);
      const page2 = await call(admin, 'GET', `/api/flows?limit=2&before=${page1.json[1].id}`);
      expect(page2.json.map((f: { requestId: string }) => f.requestId)).to.deep.equal(['r2', 'r1']);
      const page3 = await call(admin, 'GET', `/api/flows?limit=2&status=success&before=${page2.json[1].id}`);
      expect(page3.json.map((f: { requestId: string }) => f.requestId)).to.deep.equal(['r0']);
    });

    it('answers 400 for a bad query, naming the field', async () => {
      for (const q of [
        'status=bogus',
        'limit=0',
        'limit=abc',
        'limit=1001',
        'limit=',
        'limit=0x10',
        'limit=1e2',
        'colour=red',
        'status=fail&status=success',
        'limit=5&limit=6',
      ]) {
        const res = await call(admin, 'GET', `/api/flows?${q}`);
        expect(res.status, q).to.equal(400);
        expect(res.json.error.code, q).to.equal('E_INVALID_ARGUMENT');
        expect(res.json.error.message, q).to.match(/status|limit|colour/);
      }
      expect((await call(admin, 'GET', '/api/flows?limit=')).json.error.message).to.equal('limit: expected a whole number from 1 to 1000, in digits');
      const twice = await call(admin, 'GET', '/api/flows?status=fail&status=success');
      expect(twice.json.error.message).to.equal('query parameter "status" is given 2 times; give it once');
    });

    it('shows a flow by id or requestId, with its Mermaid diagram; 404 for an unknown one', async () => {
      const run = await startFlow(engine, [new Ok()], new Headwaters('order-1'));
      await run.result();
      for (const key of [run.id, 'order-1']) {
        const res = await call(admin, 'GET', `/api/flows/${key}`);
        expect(res.status).to.equal(200);
        expect(res.json).to.deep.include({ id: run.id, requestId: 'order-1', status: 'success', headwaters: { ok: true } });
        expect(res.json.streams[0]).to.deep.include({ kind: 'river', name: 'Ok', state: 'success', attempts: 1 });
        expect(res.json.mermaid)
          .to.match(/^flowchart LR/)
          .and.to.include('class s0 success');
      }
      const missing = await call(admin, 'GET', '/api/flows/nope');
      expect(missing.status).to.equal(404);
      expect(missing.json).to.deep.equal({ error: { code: 'E_NOT_FOUND', message: 'no flow "nope"' } });
    });

    it('cancels a running flow; a cancel of an ended flow is a no-op; of an unknown one 404', async () => {
      const run = await startFlow(engine, [new Hold()], new Headwaters('held'));
      const res = await call(admin, 'POST', '/api/flows/held/cancel', { body: { reason: 'operator' } });
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ id: run.id, status: 'cancelled' });
      const outcome = await run.result();
      expect(outcome.status).to.equal('cancelled');
      expect(outcome.error?.message).to.include('operator');
      expect((await call(admin, 'POST', `/api/flows/${run.id}/cancel`)).status, 'ended: no-op').to.equal(200);
      expect((await call(admin, 'POST', '/api/flows/nope/cancel')).json.error.code).to.equal('E_NOT_FOUND');
      const bad = await call(admin, 'POST', `/api/flows/${run.id}/cancel`, { body: { reason: 5 } });
      expect(bad.status).to.equal(400);
      expect(bad.json.error.message).to.include('reason');
    });

    it('redrives a failed flow (409 for one that has not failed, 404 for none)', async () => {
      const run = await startFlow(engine, [new Flaky()], new Headwaters('flaky'));
      expect((await run.result()).status).to.equal('fail');
      const ok = await startFlow(engine, [new Ok()]);
      await ok.result();
      const conflict = await call(admin, 'POST', `/api/flows/${ok.id}/redrive`);
      expect(conflict.status).to.equal(409);
      expect(conflict.json.error.code).to.equal('E_CONFLICT');
      expect((await call(admin, 'POST', '/api/flows/nope/redrive')).status).to.equal(404);
      Flaky.failing = false;
      const res = await call(admin, 'POST', '/api/flows/flaky/redrive');
      expect(res.status).to.equal(200);
      expect(res.json, 'carried out by this engine, not recorded').to.deep.equal({ id: run.id, recorded: false });
      await until(async () => (await engine.get(run.id))?.status === 'success', 3000, 'the redriven flow succeeds');
    });

    it('takes messages for a flow, which its Dam consumes: 409 when it has ended, 404 for no flow', async () => {
      const run = await startFlow(engine, [new Dam('approval')], new Headwaters('waits'));
      const sent = await call(admin, 'POST', '/api/flows/waits/messages/approval', { body: { ok: true } });
      expect(sent.status).to.equal(200);
      expect(sent.json).to.deep.include({ id: run.id });
      const outcome = await run.result();
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters['approval']).to.deep.equal({ ok: true });
      const ended = await call(admin, 'POST', `/api/flows/${run.id}/messages/approval`, { body: 1 });
      expect(ended.status).to.equal(409);
      expect((await call(admin, 'POST', '/api/flows/nope/messages/approval')).status).to.equal(404);
    });

    it('lists the live engines', async () => {
      const res = await call(admin, 'GET', '/api/workers');
      expect(res.status).to.equal(200);
      expect(res.json).to.have.length(1);
      expect(res.json[0]).to.have.keys('id', 'heartbeatAt', 'running');
    });

    it('purges ended flows', async () => {
      const run = await startFlow(engine, [new Ok()]);
      await run.result();
      const res = await call(admin, 'POST', '/api/purge', { body: { before: Date.now() + 1000 } });
      expect(res.json).to.deep.equal({ removed: 1 });
      expect(await engine.get(run.id)).to.equal(undefined);
      expect((await call(admin, 'POST', '/api/purge', { body: { before: 'yesterday' } })).status).to.equal(400);
    });

    it('answers 404 for unknown routes, 400 for bodies that are not JSON or not sent as JSON, 413 for large ones', async () => {
      expect((await call(admin, 'GET', '/api/nothing')).json.error.code).to.equal('E_NOT_FOUND');
      expect((await call(admin, 'DELETE', '/api/nothing')).status).to.equal(404);
      expect((await call(admin, 'GET', '/api/flows/x/y/z')).status).to.equal(404);
      expect((await call(admin, 'POST', '/api/flows/x/cancel', { raw: '{oops' })).status).to.equal(400);
      const plain = await call(admin, 'POST', '/api/flows/x/cancel', { raw: '{}', type: 'text/plain' });
      expect(plain.status).to.equal(400);
      expect(plain.json.error.message).to.include('application/json');
      expect((await call(admin, 'POST', '/api/flows/x/cancel', { type: null })).status).to.equal(400);
      const big = await call(admin, 'POST', '/api/flows/x/messages/m', { raw: JSON.stringify('x'.repeat(1_100_000)) });
      expect(big.status).to.equal(413);
      expect(big.json.error.code).to.equal('E_INVALID_ARGUMENT');
    });

    it('closes the connection after a 413, saying so, so that a keep-alive client sends its next request on a new one', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const send = (method: string, p: string, body?: string) =>
        new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const req = http.request(admin.url + p, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
          });
          req.on('error', reject);
          req.end(body);
        });
      try {
        const big = await send('POST', '/api/flows/x/messages/m', JSON.stringify('x'.repeat(2_000_000)));
        expect(big).to.deep.equal({ status: 413, connection: 'close' });
        expect((await send('GET', '/api/workers')).status, 'the next request, on the same agent').to.equal(200);
      } finally {
        agent.destroy();
      }
    });

    it('answers 405 with an Allow header for a wrong method on a route, naming the method to use', async () => {
      for (const [method, p, allow] of [
        ['GET', '/api/flows/x/cancel', 'POST'],
        ['GET', '/api/flows/x/redrive', 'POST'],
        ['PUT', '/api/flows/x/messages/m', 'POST'],
        ['GET', '/api/purge', 'POST'],
        ['DELETE', '/api/flows/x', 'GET, HEAD'],
        ['DELETE', '/api/flows', 'GET, HEAD'],
        ['POST', '/api/workers', 'GET, HEAD'],
        ['POST', '/api/events', 'GET, HEAD'],
      ] as const) {
        const res = await fetch(admin.url + p, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
        expect(res.status, `${method} ${p}`).to.equal(405);
        expect(res.headers.get('allow'), `${method} ${p}`).to.equal(allow);
        const use = allow.split(', ').filter((m) => m !== 'HEAD')[0];
        expect(await res.json(), `${method} ${p}`).to.deep.equal({
          error: { code: 'E_INVALID_ARGUMENT', message: `${method} ${p}: method not allowed; use ${use}` },
        });
      }
    });

    it('answers HEAD wherever it answers GET on /api/: the same status and headers, no body', async () => {
      await (await startFlow(engine, [new Ok()], new Headwaters('head'))).result();
      for (const p of ['/api/flows', '/api/flows/head', '/api/flows/nope', '/api/workers', '/api/flows?limit=x']) {
        const get = await fetch(admin.url + p);
        const head = await fetch(admin.url + p, { method: 'HEAD' });
        expect(head.status, p).to.equal(get.status);
        for (const h of ['content-type', 'content-length', 'cache-control']) expect(head.headers.get(h), `${p} ${h}`).to.equal(get.headers.get(h));
        expect(await head.text(), p).to.equal('');
        expect(Buffer.byteLength(await get.text()), p).to.equal(Number(get.headers.get('content-length')));
      }
      const events = await fetch(`${admin.url}/api/events`, { method: 'HEAD' });
      expect(events.status).to.equal(200);
      expect(events.headers.get('content-type')).to.match(/^text\/event-stream/);
      expect(await events.text()).to.equal('');
    });

    it('refuses a Host header that is not its own while bound to loopback (DNS rebinding)', async () => {
      const { port } = new URL(admin.url);
      const http = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/api/flows', headers: { host: 'evil.example:80' } }, (res) => (res.resume(), resolve(res.statusCode!)))
          .on('error', reject);
      });
      expect(status).to.equal(400);
      // its own names in any case: host names are case-insensitive
      for (const host of ['LOCALHOST', `Localhost:${port}`]) {
        const ok = await new Promise<number>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/api/flows', headers: { host } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject);
        });
        expect(ok, host).to.equal(200);
      }
    });

    it('answers what node:http refuses itself (headers too large, a malformed request) with a JSON error body', async () => {
      const { port } = new URL(admin.url);
      const http = await import('node:http');
      const big = await new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/api/flows', headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
          })
          .on('error', reject);
      });
      expect(big.status).to.equal(431);
      expect(big.type).to.match(/^application\/json/);
      expect(JSON.parse(big.body)).to.deep.equal({ error: { code: 'E_INVALID_ARGUMENT', message: 'the request headers are too large' } });
      const net = await import('node:net');
      const raw = await new Promise<string>((resolve, reject) => {
        let got = '';
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        socket.on('data', (d) => (got += d.toString()));
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
      });
      expect(raw).to.match(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).to.equal('E_INVALID_ARGUMENT');
    });

    it('serves the UI page at / (a placeholder until the UI is built) without the token', async () => {
      const res = await fetch(`${admin.url}/`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(await res.text()).to.match(/<html/);
      expect((await fetch(`${admin.url}/nope.js`)).status).to.equal(404);
      expect((await fetch(`${admin.url}/`, { method: 'POST' })).status).to.equal(404);
    });

    it('streams every engine event as server-sent events', async () => {
      const events = await readEvents(
        `${admin.url}/api/events`,
        async () => (await startFlow(engine, [new Ok()], new Headwaters('sse'))).result(),
        (seen) => seen.some((e) => e.event === 'flow:end'),
      );
      expect(events.map((e) => e.event)).to.include.members(['flow:start', 'river:start', 'river:end', 'flow:end']);
      const end = events.find((e) => e.event === 'flow:end')!;
      expect(end.data).to.deep.include({ requestId: 'sse', status: 'success' });
    });

    it('closes the event stream of a client that stops reading, past a backlog of 1 MiB (its EventSource connects again)', async () => {
      const socket = net.connect(Number(new URL(admin.url).port), '127.0.0.1');
      socket.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await once(socket, 'data');
      socket.pause();
      // some 16 MB of events, far more than the socket's buffers hold: the server must not keep them
      const long = 'r'.repeat(20_000);
      for (let i = 0; i < 200; i += 20)
        await Promise.all(Array.from({ length: 20 }, (_, k) => startFlow(engine, [new Ok()], new Headwaters(`${long}${i + k}`)).then((r) => r.result())));
      let read = 0;
      socket.on('data', (d: Buffer) => (read += d.length));
      const closed = once(socket, 'close');
      socket.resume();
      await closed;
      expect(read).to.be.below(8 * 1024 * 1024);
      // a client that reads goes on hearing every event
      const events = await readEvents(
        `${admin.url}/api/events`,
        async () => (await startFlow(engine, [new Ok()], new Headwaters('after'))).result(),
        (seen) => seen.some((e) => e.event === 'flow:end'),
      );
      expect(events.find((e) => e.event === 'flow:end')!.data).to.deep.include({ requestId: 'after', status: 'success' });
    });

    it('answers a request under way when engine.close() begins before it closes its connections', async () => {
      const run = await startFlow(engine, [new Stubborn()], new Headwaters('stubborn'));
      await until(async () => (await engine.get(run.id))?.streams[0]?.state === 'running', 3000, 'the river runs');
      const answer = call(admin, 'POST', '/api/flows/stubborn/cancel', { body: {} });
      await new Promise((r) => setTimeout(r, 100));
      await engine.close();
      const res = await answer;
      expect(res.status).to.equal(200);
      expect(res.json).to.deep.equal({ id: run.id, status: 'cancelled' });
    });

    it('is closed by engine.close(), and can be closed on its own', async () => {
      const second = await engine.serve({ port: 0 });
      await second.close();
      await rejects(fetch(`${second.url}/api/flows`));
      await engine.close();
      await rejects(fetch(`${admin.url}/api/flows`));
    });

    it('rejects with E_CLOSED a serve() that was starting when engine.close() ran (it closes the server it started)', async () => {
      const starting = engine.serve({ port: 0 });
      await engine.close();
      const err = await rejects(starting);
      expect(err.code).to.equal('E_CLOSED');
      expect(err.message).to.equal('serve: the engine was closed while the server started');
    });

    it('checks its options', async () => {
      for (const bad of [{ port: -1 }, { port: 1.5 }, { host: '' }, { token: '' }, { prot: 1 }]) {
        const err = await rejects(engine.serve(bad as never));
        expect(err.code, JSON.stringify(bad)).to.equal('E_INVALID_ARGUMENT');
      }
      const { port } = new URL(admin.url);
      expect((await rejects(engine.serve({ port: Number(port) }))).code, 'a port in use').to.equal('E_INVALID_ARGUMENT');
    });
  });

  describe('engine.serve({ token })', () => {
    const engines = useEngines(kind);
    let admin: AdminServer;
    let engine: Engine;
    beforeEach(async () => {
      engine = await engines.open({ classes: CLASSES });
      admin = await engine.serve({ port: 0, token: 's3cret' });
    });
    /** The events read from `url` while a flow runs to its end. */
    const flowEndEvents = (url: string, headers?: Record<string, string>) =>
      readEvents(
        url,
        async () => (await startFlow(engine, [new Ok()])).result(),
        (seen) => seen.some((e) => e.event === 'flow:end'),
        ...(headers === undefined ? [] : [headers]),
      );

    it('answers 401 on every API route without the token, or with a wrong one', async () => {
      for (const [method, p] of [
        ['GET', '/api/flows'],
        ['GET', '/api/flows/x'],
        ['POST', '/api/flows/x/cancel'],
        ['POST', '/api/flows/x/redrive'],
        ['POST', '/api/flows/x/messages/m'],
        ['GET', '/api/workers'],
        ['GET', '/api/events'],
        ['GET', '/api/unknown'],
      ] as const) {
        for (const token of [undefined, 'wrong', 's3cret-but-longer']) {
          const res = await call(admin, method, p, token === undefined ? {} : { token });
          expect(res.status, `${method} ${p} ${token}`).to.equal(401);
          expect(res.json.error.code).to.equal('E_UNAUTHORIZED');
        }
      }
      expect((await call(admin, 'GET', '/api/flows?token=s3cret')).status, '?token= is for /api/events only').to.equal(401);
      expect((await call(admin, 'GET', '/api/flows', { token: 's3cret' })).status).to.equal(200);
      expect((await fetch(`${admin.url}/`)).status, 'the page itself holds no data').to.equal(200);
    });

    it('takes the Bearer scheme in any case (RFC 9110), and no other scheme', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
        const res = await fetch(`${admin.url}/api/flows`, { headers: { authorization: `${scheme} s3cret` } });
        expect(res.status, scheme).to.equal(200);
      }
      for (const header of ['Basic s3cret', 's3cret', 'Bearers3cret', 'bearer wrong']) {
        const res = await fetch(`${admin.url}/api/flows`, { headers: { authorization: header } });
        expect(res.status, header).to.equal(401);
      }
      const events = await flowEndEvents(`${admin.url}/api/events`, { authorization: 'bearer s3cret' });
      expect(events.map((e) => e.event)).to.include('flow:end');
    });

    it('streams events to a client that gives the token as ?token= (EventSource sends no headers)', async () => {
      const events = await flowEndEvents(`${admin.url}/api/events?token=s3cret`);
      expect(events.map((e) => e.event)).to.include('flow:end');
      const withHeader = await flowEndEvents(`${admin.url}/api/events`, { authorization: 'Bearer s3cret' });
      expect(withHeader.map((e) => e.event)).to.include('flow:end');
    });
  });
});

describe('static files of the UI', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-ui-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<html>ui</html>');
    fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(os.tmpdir(), 'secret.txt'), 'no');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves index.html at / and files by type, nothing outside the directory', async () => {
    expect((await uiFile(dir, '/'))?.type).to.match(/^text\/html/);
    expect((await uiFile(dir, '/app.js'))?.type).to.match(/^text\/javascript/);
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/nope.css', '/%E0%A4%A', '/a\0b'])
      expect(await uiFile(dir, p), p).to.equal(undefined);
    expect(await uiFile(undefined, '/')).to.deep.include({ body: PLACEHOLDER });
    expect(await uiFile(undefined, '/app.js')).to.equal(undefined);
  });
});

describePg('engine.serve() on PostgreSQL', () => {
  let schema: string;
  const engines: Engine[] = [];
  const open = async (options: object): Promise<Engine> => {
    const engine = await Engine.open({
      store: new PostgresStore({ connectionString: PG_URL, schema }),
      logger: silent,
      closeTimeout: 200,
      worker: { heartbeat: '100ms', leaseTime: '2s' },
      ...options,
    });
    engines.push(engine);
    return engine;
  };
  beforeEach(() => {
    schema = schemaName();
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
    await dropSchema(schema);
  });

  it('streams status changes of flows that other engines run, rebuilt from the change feed', async () => {
    const client = await open({ concurrency: 0 });
    await open({ classes: CLASSES });
    const admin = await client.serve({ port: 0 });
    const events = await readEvents(
      `${admin.url}/api/events`,
      async () => new Promise((r) => setTimeout(r, 300)).then(() => startFlow(client, [new Ok()], new Headwaters('remote'))),
      (seen) => seen.some((e) => e.event === 'flow:end'),
    );
    const end = events.find((e) => e.event === 'flow:end')!;
    expect(end.data).to.deep.include({ requestId: 'remote', status: 'success', source: 'store' });
    // it ran and ended between two reads of the feed: its start is reported all the same, before its end
    const named = events.filter((e) => (e.data as { requestId?: string }).requestId === 'remote').map((e) => e.event);
    expect(named.filter((e) => e !== 'flow:waiting')).to.deep.equal(['flow:start', 'flow:end']);
    expect((await call(admin, 'GET', '/api/workers')).json).to.have.length(2);
    const shown = await call(admin, 'GET', '/api/flows/remote');
    expect(shown.json.status).to.equal('success');
  });

  it('tells a client that connects after a time with none only what changes from then on', async () => {
    const client = await open({ concurrency: 0 });
    await open({ classes: CLASSES });
    const admin = await client.serve({ port: 0 });
    const ended = (requestId: string) => (seen: Array<{ event: string; data: any }>) =>
      seen.some((e) => e.event === 'flow:end' && e.data.requestId === requestId);
    await readEvents(`${admin.url}/api/events`, async () => (await startFlow(client, [new Ok()], new Headwaters('first'))).result(), ended('first'));
    // no one listens while these run and end
    for (let i = 0; i < 5; i++) await (await startFlow(client, [new Ok()], new Headwaters(`unheard-${i}`))).result();
    const events = await readEvents(
      `${admin.url}/api/events`,
      async () => (await startFlow(client, [new Ok()], new Headwaters('later'))).result(),
      ended('later'),
    );
    expect(events.map((e) => e.data.requestId).filter((r) => r !== undefined && r !== 'later')).to.deep.equal([]);
  });

  it('cancels a flow another engine runs, and redrives a failed one there', async () => {
    Flaky.failing = true;
    const client = await open({ concurrency: 0 });
    const runner = await open({ classes: CLASSES });
    const admin = await client.serve({ port: 0 });
    const held = await startFlow(runner, [new Hold()], new Headwaters('held-pg'));
    await until(async () => (await runner.get(held.id))?.streams[0]?.state === 'running', 3000, 'the river runs');
    expect((await call(admin, 'POST', '/api/flows/held-pg/cancel', { body: { reason: 'ops' } })).status).to.equal(200);
    expect((await held.result()).status).to.equal('cancelled');
    const flaky = await startFlow(runner, [new Flaky()], new Headwaters('flaky-pg'));
    expect((await flaky.result()).status).to.equal('fail');
    Flaky.failing = false;
    // the client engine lacks the classes: it records the redrive for an engine that has them
    const res = await call(admin, 'POST', '/api/flows/flaky-pg/redrive');
    expect(res.status).to.equal(200);
    await until(async () => (await runner.get(flaky.id))?.status === 'success', 5000, 'the runner redrives it');
    expect(await runner['get'](flaky.id).then(() => client.get(flaky.id))).to.deep.include({ status: 'success' });
  });
});
