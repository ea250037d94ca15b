import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dam, Engine, Headwaters, PostgresStore } from '../../lib/index.js';
import { cli, inProcess, serveUi } from '../helpers/cli.js';
import { levelCommands, silent, startFlow, until } from '../helpers/stores.js';
import { Flaky, Hold, Ok } from '../admin/rivers.js';
import { PG_URL, dropSchema, schemaName, describePg } from '../helpers/postgres.js';

const CLASSES = [Ok, Flaky, Hold];

describe('the vastflow CLI', () => {
  it('answers bad usage with exit 2 and the usage text, --help with 0', async () => {
    const none = await cli([]);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include('Usage: vastflow <command>');
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('unknown command "frobnicate"');
    const help = await cli(['list', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('Usage: vastflow list');
    for (const args of [
      ['list', '--bogus'],
      ['list', '--limit', 'x'],
      ['list', '--status', 'nope'],
      ['show'],
      ['show', 'a', 'b'],
      ['purge'],
      ['purge', '--before', 'soon'],
      ['purge', '--before', '1d', '--status', 'running'],
      ['send', 'x', 'm', '{bad'],
      ['ui', '--port', '-3'],
      ['list', '--store', 'a', '--url', 'http://x'],
    ]) {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.include('Usage: vastflow');
    }
    expect((await inProcess(['--help'])).code).to.equal(0);
  });

  it("prints the package's version with --version (the built CLI, as npx runs it)", async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8'));
    const out = await cli(['--version']);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.equal(`${version}\n`);
  });

  it('answers a command named after an Object.prototype property as an unknown command', async () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await inProcess([name]);
      expect(r.code, name).to.equal(2);
      expect(r.stderr, name).to.include(`vastflow: unknown command ${JSON.stringify(name)}`);
      expect(r.stderr, name).to.include('Usage: vastflow <command> [options]');
      expect(r.stderr, name).to.not.include('undefined');
      expect(r.stdout, name).to.equal('');
    }
  });

  it('reports a missing store with exit 1', async () => {
    const r = await cli(['list', '--store', path.join(os.tmpdir(), 'vastflow-none-here')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^E_NOT_FOUND: no vastflow store at /);
  });

  it('reports an empty directory as no store, and writes nothing into it', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-empty-'));
    try {
      const r = await inProcess(['list', '--store', empty]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/^E_NOT_FOUND: no vastflow store at .*holds no LevelDB/);
      expect(fs.readdirSync(empty)).to.deep.equal([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  describe('on a LevelDB store', () => {
    let dir: string;
    let ids: { ok: string; failed: string; held: string };
    beforeEach(async () => {
      Flaky.failing = true;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-'));
      const engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      const ok = await startFlow(engine, [new Ok()], new Headwaters('order-ok'));
      await ok.result();
      const failed = await startFlow(engine, [new Flaky()], new Headwaters('order-fail'));
      await failed.result();
      const held = await startFlow(engine, [new Hold()], new Headwaters('order-held'));
      await until(async () => (await engine.get(held.id))?.streams[0]?.state === 'running');
      await engine.close(); // the held flow stays unfinished in the store
      ids = { ok: ok.id, failed: failed.id, held: held.id };
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('lists flows as a table, or as JSON', async () => {
      const table = await cli(['list', '--store', dir]);
      expect(table.code, table.stderr).to.equal(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).to.match(/^ID\s+REQUEST ID\s+STATUS\s+CREATED\s+UPDATED$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).to.deep.equal(['order-held', 'order-fail', 'order-ok']);
      const json = await cli(['list', '--json', '--status', 'fail'], { VASTFLOW_DB: dir });
      expect(JSON.parse(json.stdout)).to.deep.equal([
        {
          id: ids.failed,
          requestId: 'order-fail',
          status: 'fail',
          createdAt: JSON.parse(json.stdout)[0].createdAt,
          updatedAt: JSON.parse(json.stdout)[0].updatedAt,
        },
      ]);
      const page = JSON.parse((await inProcess(['list', '--store', dir, '--json', '--limit', '1', '--before', ids.held])).stdout);
      expect(page.map((f: { id: string }) => f.id)).to.deep.equal([ids.failed]);
    });

    it('takes the options every command has before the command too', async () => {
      const before = await inProcess(['--store', dir, '--json', 'list', '--status', 'fail']);
      expect(before.code, before.stderr).to.equal(0);
      expect(JSON.parse(before.stdout).map((f: { id: string }) => f.id)).to.deep.equal([ids.failed]);
      const joined = await inProcess([`--store=${dir}`, 'show', 'order-ok']);
      expect(joined.code, joined.stderr).to.equal(0);
      expect(joined.stdout).to.include(`id:          ${ids.ok}`);
      const noCommand = await inProcess(['--store', dir, '--json']);
      expect(noCommand.code).to.equal(2);
      expect(noCommand.stderr).to.include('Usage: vastflow <command>');
      const unknown = await inProcess(['--store', dir, '--limit', '1', 'list']);
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.include('unknown command "--limit"');
    });

    it('shows a flow and its diagram, by id or requestId; E_NOT_FOUND for none', async () => {
      const shown = await cli(['show', 'order-fail', '--store', dir]);
      expect(shown.code).to.equal(0);
      expect(shown.stdout).to.include(`id:          ${ids.failed}`).and.include('status:      fail').and.include('E_RIVER_FAILED');
      expect(shown.stdout).to.match(/STREAM\s+KIND\s+NAME\s+STATE/);
      const json = JSON.parse((await inProcess(['show', ids.ok, '--store', dir, '--json'])).stdout);
      expect(json).to.deep.include({ id: ids.ok, status: 'success', headwaters: { ok: true } });
      expect(json.mermaid).to.match(/^flowchart LR/);
      const diagram = await cli(['diagram', 'order-ok', '--store', dir]);
      expect(diagram.stdout)
        .to.match(/^flowchart LR/)
        .and.include('class s0 success');
      const diagramJson = JSON.parse((await inProcess(['diagram', 'order-ok', '--store', dir, '--json'])).stdout);
      expect(diagramJson).to.have.keys('id', 'mermaid');
      expect(diagramJson).to.include({ id: ids.ok, mermaid: diagram.stdout });
      const none = await cli(['show', 'x', '--store', dir]);
      expect(none.code).to.equal(1);
      expect(none.stderr).to.equal('E_NOT_FOUND: no flow "x"\n');
      expect((await inProcess(['diagram', 'x', '--store', dir])).stderr).to.equal('E_NOT_FOUND: no flow "x"\n');
    });

    it('records cancel and redrive in the store; the engine that opens it carries them out', async () => {
      Flaky.failing = false;
      const cancel = await cli(['cancel', 'order-held', '--reason', 'ops said', '--store', dir]);
      expect(cancel.code, cancel.stderr).to.equal(0);
      expect(cancel.stdout).to.equal(`flow ${ids.held}: cancel recorded (the flow is running); the engine that runs the flow carries it out\n`);
      const redrive = await inProcess(['redrive', 'order-fail', '--store', dir, '--json']);
      expect(JSON.parse(redrive.stdout)).to.deep.equal({ id: ids.failed, redrive: true, recorded: true });
      // the recorded cancel shows as the flow's pending cancel until an engine carries it out
      expect(JSON.parse((await inProcess(['show', 'order-held', '--store', dir, '--json'])).stdout).pendingCancel).to.deep.equal({ reason: 'ops said' });
      // asked twice while the first waits: one redrive, else the flow would run again after the first
      expect((await inProcess(['redrive', 'order-fail', '--store', dir])).code).to.equal(0);
      expect((await levelCommands(dir)).map((c) => c.body.kind)).to.deep.equal(['cancel', 'redrive']);
      const engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      try {
        await until(async () => (await engine.get(ids.held))?.status === 'cancelled', 3000, 'the stored cancel');
        await until(async () => (await engine.get(ids.failed))?.status === 'success', 3000, 'the stored redrive');
        expect((await engine.get(ids.held))?.error?.message).to.include('ops said');
      } finally {
        await engine.close();
      }
      expect(await levelCommands(dir), 'consumed').to.deep.equal([]);
    });

    it('answers E_CONFLICT for a redrive of a flow that has not failed and a send to an ended flow; a cancel of an ended flow is a no-op', async () => {
      const redrive = await cli(['redrive', 'order-ok', '--store', dir]);
      expect(redrive.code).to.equal(1);
      expect(redrive.stderr).to.match(/^E_CONFLICT: /);
      const send = await inProcess(['send', 'order-ok', 'approval', '{"ok":true}', '--store', dir]);
      expect(send.code).to.equal(1);
      expect(send.stderr).to.match(/^E_CONFLICT: /);
      expect((await inProcess(['cancel', 'order-ok', '--store', dir])).code).to.equal(0);
      expect((await inProcess(['cancel', 'nope', '--store', dir])).stderr).to.match(/^E_NOT_FOUND/);
      const said = await inProcess(['send', 'order-held', 'approval', '--store', dir]);
      expect(said.code, said.stderr).to.equal(0);
      expect(said.stdout).to.equal(
        `flow ${ids.held}: message "approval" recorded in the flow's inbox; the engine that runs the flow hands it to its Dam "approval"\n`,
      );
      const sent = await inProcess(['send', 'order-held', 'approval', '{"ok":true}', '--store', dir, '--json']);
      expect(sent.code, sent.stderr).to.equal(0);
      expect((await levelCommands(dir)).map((c) => c.body)).to.deep.equal([
        { kind: 'message', name: 'approval', payload: null },
        { kind: 'message', name: 'approval', payload: { ok: true } },
      ]);
    });

    it('lists workers and purges ended flows', async () => {
      const workers = await inProcess(['workers', '--store', dir]);
      expect(workers.code).to.equal(0);
      expect(workers.stdout).to.equal('no live engines\n');
      const purged = await cli(['purge', '--before', '0ms', '--status', 'success', '--store', dir, '--json']);
      expect(JSON.parse(purged.stdout)).to.deep.equal({ removed: 1 });
      const rest = await inProcess(['purge', '--before', '0s', '--store', dir]);
      expect(rest.stdout).to.equal('removed 1 flow\n');
      expect(JSON.parse((await inProcess(['list', '--store', dir, '--json'])).stdout).map((f: { id: string }) => f.id)).to.deep.equal([ids.held]);
    });

    it('answers E_STORE_LOCKED, suggesting --url, while an engine holds the directory', async () => {
      const engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      try {
        const r = await cli(['list', '--store', dir]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(
          /^E_STORE_LOCKED: .*another process holds this LevelDB directory \(an engine, or another vastflow command still running\).*--url/,
        );
      } finally {
        await engine.close();
      }
    });

    it('serves the UI and the API over the store with `ui`, until stopped', async () => {
      const { url, stop } = await serveUi(['--store', dir, '--port', '0']);
      try {
        expect((await fetch(`${url}/`)).status).to.equal(200);
        const flows = (await (await fetch(`${url}/api/flows`)).json()) as Array<{ id: string }>;
        expect(flows.map((f) => f.id)).to.deep.equal([ids.held, ids.failed, ids.ok]);
        const res = await fetch(`${url}/api/flows/order-held/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(res.status).to.equal(200);
        expect(await res.json()).to.deep.equal({ id: ids.held, status: 'running' });
        // through a server over the store the cancel is only recorded, and the CLI says so
        const viaUrl = await inProcess(['cancel', 'order-held', '--url', url]);
        expect(viaUrl.stdout).to.equal(`flow ${ids.held}: cancel recorded (the flow is running); the engine that runs the flow carries it out\n`);
      } finally {
        expect(await stop()).to.equal(0);
      }
    });
  });

  it('prints requestIds and messages with control characters escaped, in tables, details and errors; JSON keeps them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-'));
    try {
      const forged = 'evil\u001b[2J\nFORGED  row';
      const engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      await (await startFlow(engine, [new Ok()], new Headwaters(forged))).result();
      await engine.close();
      const list = await inProcess(['list', '--store', dir]);
      expect(list.stdout).to.not.match(/[\u0000-\u0009\u000b-\u001f]/);
      expect(list.stdout.trim().split('\n')).to.have.length(2);
      expect(list.stdout).to.include('evil\\u001b[2J\\u000aFORGED  row');
      const shown = await inProcess(['show', forged, '--store', dir]);
      expect(shown.stdout).to.include('requestId:   evil\\u001b[2J\\u000aFORGED  row\n');
      const none = await inProcess(['show', 'no\u001b[31m', '--store', dir]);
      expect(none.stderr).to.equal('E_NOT_FOUND: no flow "no\\u001b[31m"\n');
      expect(JSON.parse((await inProcess(['list', '--store', dir, '--json'])).stdout)[0].requestId).to.equal(forged);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes C1 controls, bidi controls and line separators in tables, details and JSON (the JSON parses to the same text)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-'));
    try {
      // U+009B is CSI to a terminal that takes 8-bit controls; U+202E reverses the rest of a row
      const forged = 'a\u009b2J\u202edeliaf\u2066x\u2028y\u061c';
      const engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      await (await startFlow(engine, [new Ok()], new Headwaters(forged))).result();
      await engine.close();
      const unsafe = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
      const outputs = [];
      for (const args of [['list'], ['show', forged], ['diagram', forged], ['list', '--json'], ['show', forged, '--json']])
        outputs.push(await inProcess([...args, '--store', dir]));
      for (const { stdout } of outputs) expect(stdout).to.not.match(unsafe);
      expect(outputs[0]!.stdout).to.include('a\\u009b2J\\u202edeliaf\\u2066x\\u2028y\\u061c');
      expect(outputs[1]!.stdout).to.include('requestId:   a\\u009b2J\\u202edeliaf');
      expect(JSON.parse(outputs[3]!.stdout)[0].requestId).to.equal(forged);
      expect(JSON.parse(outputs[4]!.stdout).requestId).to.equal(forged);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("--url: a running engine's admin server", () => {
    let dir: string;
    let engine: Engine;
    let url: string;
    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-'));
      engine = await Engine.open({ store: dir, logger: silent, classes: CLASSES, closeTimeout: 100 });
      url = (await engine.serve({ port: 0, token: 'tok' })).url;
    });
    afterEach(async () => {
      await engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists, shows, cancels and redrives through the API, with the token from --token or VF_TOKEN', async () => {
      Flaky.failing = true;
      const held = await startFlow(engine, [new Hold()], new Headwaters('u-held'));
      const failed = await startFlow(engine, [new Flaky()], new Headwaters('u-fail'));
      await failed.result();
      const list = await cli(['list', '--url', url, '--token', 'tok', '--json']);
      expect(list.code, list.stderr).to.equal(0);
      expect(JSON.parse(list.stdout).map((f: { requestId: string }) => f.requestId)).to.deep.equal(['u-fail', 'u-held']);
      const show = await inProcess(['show', 'u-fail', '--url', url], { VF_TOKEN: 'tok' });
      expect(show.stdout).to.include('status:      fail');
      expect((await inProcess(['diagram', 'u-fail', '--url', url], { VF_TOKEN: 'tok' })).stdout).to.match(/^flowchart/);
      const cancel = await cli(['cancel', 'u-held', '--url', url], { VF_TOKEN: 'tok' });
      expect(cancel.code, cancel.stderr).to.equal(0);
      expect(cancel.stdout).to.equal(`flow ${held.id}: cancelled\n`);
      expect((await held.result()).status).to.equal('cancelled');
      const again = await inProcess(['cancel', 'u-held', '--url', url, '--token', 'tok', '--json']);
      expect(JSON.parse(again.stdout)).to.deep.equal({ id: held.id, cancel: true, status: 'cancelled' });
      const ended = await inProcess(['cancel', 'u-fail', '--url', url, '--token', 'tok']);
      expect(ended.stdout).to.equal(`flow ${failed.id}: it had ended (fail); left as it is\n`);
      Flaky.failing = false;
      expect((await inProcess(['redrive', 'u-fail', '--url', url, '--token', 'tok'])).code).to.equal(0);
      await until(async () => (await engine.get(failed.id))?.status === 'success');
      expect((await inProcess(['redrive', 'u-fail', '--url', url, '--token', 'tok'])).stderr).to.match(/^E_CONFLICT/);
      expect((await inProcess(['send', 'u-fail', 'm', '--url', url, '--token', 'tok'])).stderr).to.match(/^E_CONFLICT/);
      expect((await inProcess(['show', 'nope', '--url', url, '--token', 'tok'])).stderr).to.equal('E_NOT_FOUND: no flow "nope"\n');
      expect(JSON.parse((await inProcess(['workers', '--url', url, '--token', 'tok', '--json'])).stdout)).to.have.length(1);
      expect(JSON.parse((await inProcess(['purge', '--before', '0s', '--url', url, '--token', 'tok', '--json'])).stdout)).to.deep.equal({ removed: 2 });
    });

    it("sends a message through the API: the engine stores it in the flow's inbox and the flow's Dam takes it", async () => {
      const run = await startFlow(engine, [new Dam('go'), new Ok()], new Headwaters('u-dam'));
      const sent = await inProcess(['send', 'u-dam', 'go', '{"n":1}', '--url', url, '--token', 'tok']);
      expect(sent.code, sent.stderr).to.equal(0);
      expect(sent.stdout).to.equal(`flow ${run.id}: message "go" stored in the flow's inbox, for its Dam "go"\n`);
      expect((await run.result()).status).to.equal('success');
    });

    it('fails with E_UNAUTHORIZED without the token, and with a clear error when nothing listens', async () => {
      const r = await cli(['list', '--url', url]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^E_UNAUTHORIZED: /);
      const gone = await inProcess(['list', '--url', 'http://127.0.0.1:1']);
      expect(gone.code).to.equal(1);
      expect(gone.stderr).to.match(/^E_STORE_UNAVAILABLE: cannot reach the admin server/);
    });

    it('answers a --url that is no http address with exit 2, and a path the server has no route for as such, not as no flow', async () => {
      for (const bad of ['foo', '127.0.0.1:7411', 'ftp://127.0.0.1:7411', 'http://']) {
        const r = await inProcess(['list', '--url', bad, '--token', 'tok']);
        expect(r.code, bad).to.equal(2);
        expect(r.stderr, bad).to.include('--url must be the http:// or https:// address of an admin server');
      }
      const wrong = await inProcess(['show', 'u-any', '--url', `${url}/prefix`, '--token', 'tok']);
      expect(wrong.code).to.equal(1);
      expect(wrong.stderr).to.equal('E_NOT_FOUND: no file /prefix/api/flows/u-any\n');
    });
  });

  describePg('the vastflow CLI on PostgreSQL (--store URL --schema)', () => {
    let schema: string;
    let engine: Engine;
    beforeEach(async () => {
      schema = schemaName();
      engine = await Engine.open({
        store: new PostgresStore({ connectionString: PG_URL, schema }),
        logger: silent,
        classes: CLASSES,
        closeTimeout: 100,
        worker: { heartbeat: '100ms', leaseTime: '2s' },
      });
    });
    afterEach(async () => {
      await engine.close();
      await dropSchema(schema);
    });

    it('reads the flows of a running engine, lists it as a worker, and records commands it carries out', async () => {
      Flaky.failing = true;
      const held = await startFlow(engine, [new Hold()], new Headwaters('pg-held'));
      const failed = await startFlow(engine, [new Flaky()], new Headwaters('pg-fail'));
      await failed.result();
      const where = ['--store', PG_URL, '--schema', schema];
      const list = await cli(['list', ...where, '--json']);
      expect(list.code, list.stderr).to.equal(0);
      expect(JSON.parse(list.stdout).map((f: { requestId: string }) => f.requestId)).to.deep.equal(['pg-fail', 'pg-held']);
      const workers = await inProcess(['workers', ...where]);
      expect(workers.stdout).to.match(/^ID\s+HEARTBEAT\s+RUNNING\n/);
      expect(workers.stdout.trim().split('\n')).to.have.length(2);
      expect((await cli(['cancel', 'pg-held', ...where])).code).to.equal(0);
      expect((await held.result()).status).to.equal('cancelled');
      Flaky.failing = false;
      expect((await inProcess(['redrive', 'pg-fail', ...where])).code).to.equal(0);
      await until(async () => (await engine.get(failed.id))?.status === 'success', 5000, 'the redrive');
    });
  });
});
