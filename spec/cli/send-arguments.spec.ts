import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dam, Engine, Headwaters } from '../../lib/index.js';
import { cli, inProcess } from '../helpers/cli.js';
import { levelCommands, silent, startFlow, until } from '../helpers/stores.js';

describe('the vastflow CLI: send checks its arguments before it opens anything', () => {
  let dir: string;
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers an empty message name with E_INVALID_ARGUMENT, the same through --store and --url', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-send-'));
    engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    const run = await startFlow(engine, [new Dam('go')], new Headwaters('waits'));
    await engine.close();
    const viaStore = await cli(['send', run.id, '', '1', '--store', dir]);
    expect(viaStore.code, viaStore.stderr).to.equal(1);
    expect(viaStore.stderr).to.match(/^E_INVALID_ARGUMENT: send: the message name must be a non-empty string/);

    engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    const url = (await engine.serve({ port: 0 })).url;
    const viaUrl = await cli(['send', run.id, '', '1', '--url', url]);
    expect(viaUrl.code, viaUrl.stderr).to.equal(1);
    expect(viaUrl.stderr).to.equal(viaStore.stderr);
    expect((await engine.get(run.id))?.status).to.be.oneOf(['running', 'waiting']); // still at its Dam

    // checked before any call: a server that is not there, a store that is not there
    expect((await inProcess(['send', 'waits', '', '--url', 'http://127.0.0.1:1'])).stderr).to.equal(viaStore.stderr);
    expect((await inProcess(['send', 'waits', '', '--store', path.join(dir, 'none')])).stderr).to.equal(viaStore.stderr);
  });

  it('takes a negative number for the payload and for an option value, as JSON.parse and the range check would', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-send-'));
    engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    const run = await startFlow(engine, [new Dam('go', { key: 'n' })], new Headwaters('negative'));
    await engine.close();
    engine = undefined;
    const sent = await inProcess(['send', 'negative', 'go', '-2.5', '--store', dir]);
    expect(sent.code, sent.stderr).to.equal(0);
    const limit = await inProcess(['list', '--limit', '-5', '--store', dir]);
    expect(limit.code).to.equal(2);
    expect(limit.stderr).to.match(/^vastflow list: --limit must be an integer from 1 to 1000/);
    const option = await inProcess(['send', 'negative', 'go', '-x', '--store', dir]);
    expect(option.stderr, 'a dash and a letter stays an unknown option').to.match(/^vastflow send: Unknown option '-x'/);

    engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    await until(async () => (await engine!.get(run.id))?.status === 'success', 5000, 'the flow to pass its Dam');
    expect((await engine.get(run.id))?.headwaters['n']).to.equal(-2.5);
  });

  it('refuses a payload JSON.parse takes but the headwaters refuse (1e999, a __proto__ key), through --store, recording nothing', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-send-'));
    engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    const run = await startFlow(engine, [new Dam('go')], new Headwaters('waits'));
    await engine.close();
    engine = undefined;
    for (const payload of ['1e999', '{"__proto__":{"p":1}}']) {
      const sent = await inProcess(['send', run.id, 'go', payload, '--store', dir]);
      expect(sent.code, sent.stderr).to.equal(1);
      expect(sent.stderr, payload).to.match(/^E_NOT_SERIALIZABLE: /);
    }
    expect(await levelCommands(dir, { flowId: run.id }), 'no message reached the inbox').to.deep.equal([]);
  });
});

describe('the vastflow CLI: option values it takes as usage errors, the same through --store and --url', () => {
  let dir: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-cli-usage-'));
    const engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    await (await startFlow(engine, [new Dam({ delay: 0 })], new Headwaters('one'))).result();
    await engine.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [args, message] of [
    [['list', '--limit', '0x10'], /--limit must be an integer from 1 to 1000, in digits/],
    [['list', '--limit', '+5'], /--limit must be an integer from 1 to 1000, in digits/],
    [['list', '--limit', '5e0'], /--limit must be an integer from 1 to 1000, in digits/],
    [['list', '--before', ''], /--before must be the id of a flow/],
    [['list', '--status', 'fail', '--status', 'success'], /--status is given more than once; give it once/],
    [['list', '--limit', '1', '--limit=2'], /--limit is given more than once/],
    [['ui', '--port', '0x1f'], /--port must be an integer from 0 to 65535, in digits/],
  ] as const)
    it(`exits 2 with the usage text for ${args.join(' ')}`, async () => {
      for (const where of [
        ['--store', dir],
        ['--url', 'http://127.0.0.1:1'],
      ]) {
        const out = await inProcess([...args, ...where]);
        expect(out.code, out.stderr).to.equal(2);
        expect(out.stderr).to.match(message);
        expect(out.stderr).to.contain('Usage: vastflow');
      }
    });

  it('purges nothing for a --before that reaches back past 1970, through --store as through --url', async () => {
    const viaStore = await inProcess(['purge', '--before', '1000000d', '--store', dir]);
    expect(viaStore.code, viaStore.stderr).to.equal(0);
    expect(viaStore.stdout).to.equal('removed 0 flows\n');
    const engine = await Engine.open({ store: dir, logger: silent, closeTimeout: 100 });
    try {
      const admin = await engine.serve({ port: 0 });
      const viaUrl = await inProcess(['purge', '--before', '1000000d', '--url', admin.url]);
      expect(viaUrl.code, viaUrl.stderr).to.equal(0);
      expect(viaUrl.stdout).to.equal('removed 0 flows\n');
      expect(await engine.list()).to.have.length(1);
    } finally {
      await engine.close();
    }
  });
});
