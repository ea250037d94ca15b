// The web UI's token prompt, its workers page, and that it asks nothing of any origin but its server's.
import { expect } from 'chai';
import type { Request, Response } from 'playwright-core';
import { Andes, PostgresStore, type Engine } from '../../lib/index.js';
import { serveUi } from '../helpers/cli.js';
import { until } from '../helpers/stores.js';
import { useUi } from './harness.js';
import { failing, Gated, gate, resetRivers, Step, UI_CLASSES } from './rivers.js';
import { PG_URL, dropSchema, schemaName, describePg } from '../helpers/postgres.js';

const run = async (engine: Engine, label: string): Promise<string> => (await new Andes(engine).drawStream(new Gated({ label })).start()).id;

describe('web UI: token, workers, origin', function () {
  this.timeout(30_000);
  const ui = useUi();
  afterEach(resetRivers);

  it('asks for the token once, refuses a wrong one, then shows the flows and their live updates', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES }, { token: 's3cret' });
    const id = await run(engine, 'tok');
    const { page } = await ui.visit(url);
    const input = page.getByLabel('Token');
    await input.waitFor();
    expect(await input.evaluate((el) => el === el.ownerDocument.activeElement)).to.equal(true);
    await input.fill('wrong');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('The admin server refused that token.').waitFor();
    await page.getByLabel('Token').fill('s3cret');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator(`tr[data-flow="${id}"] .badge`, { hasText: 'running' }).waitFor();

    // asked once: other pages and a reload keep the token, and the event stream carries it too
    await page.getByRole('link', { name: id }).click();
    await page.locator('svg.graph g[data-stream="0"][data-state="running"]').waitFor();
    await page.reload();
    await page.locator('svg.graph g[data-stream="0"][data-state="running"]').waitFor();
    await page.waitForTimeout(100); // the event stream connects
    gate('tok').release();
    await page.locator('svg.graph g[data-stream="0"][data-state="success"]').waitFor();
    expect(await page.getByLabel('Token').count()).to.equal(0);
  });

  it('lists the engines and their heartbeats on the workers page', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const [me] = await engine.workers();
    const { page } = await ui.visit(`${url}/#/workers`);
    const row = page.locator(`tr[data-worker="${me!.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).to.contain('ago');
    expect(await page.getByRole('link', { name: 'Workers' }).getAttribute('aria-current')).to.equal('page');
  });

  it('loads every page with requests to its own origin only, and every asset from the package', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = (await new Andes(engine).drawStream(new Step({ label: 'a' })).start()).id;
    await until(async () => (await engine.get(id))?.status === 'success', 5000, 'the flow ends');
    const { page, requests } = await ui.visit(url);
    const failed: string[] = [];
    const onFailed = (r: Request) => void failed.push(r.url());
    const onResponse = (r: Response) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
    page.on('requestfailed', onFailed).on('response', onResponse);
    await page.locator('table.flows').waitFor();
    await page.getByRole('link', { name: id }).click();
    await page.locator('svg.graph').waitFor();
    await page.getByRole('link', { name: 'Workers' }).click();
    await page.locator('table.workers').waitFor();
    const origin = new URL(url).origin;
    expect(requests.every((u) => u.startsWith(`${origin}/`))).to.equal(true);
    const paths = new Set(requests.map((u) => new URL(u).pathname));
    for (const p of ['/', '/app.css', '/app.js', '/api/flows', '/api/events', '/api/workers', `/api/flows/${id}`]) expect(paths, p).to.include(p);
    page.off('requestfailed', onFailed).off('response', onResponse);
    expect(failed.filter((f) => !f.includes('/api/events'))).to.deep.equal([]);
  });
});

describePg('web UI on PostgreSQL', function () {
  this.timeout(30_000);
  const ui = useUi();
  let schema = '';
  const store = () => new PostgresStore({ connectionString: PG_URL, schema });
  beforeEach(() => {
    schema = schemaName();
  });
  afterEach(async () => {
    resetRivers();
    await dropSchema(schema);
  });

  it('lists every engine on the database, and shows a flow another engine runs turning green', async () => {
    const worker = { heartbeat: '100ms', leaseTime: '2s' };
    const { engine: client, url } = await ui.serve({ store: store(), concurrency: 0, worker: { ...worker, id: 'client-engine' } });
    await ui.open({ store: store(), classes: UI_CLASSES, worker: { ...worker, id: 'runner-engine' } });
    const id = await run(client, 'pg');
    const { page } = await ui.visit(`${url}/#/workers`);
    await page.locator('tr[data-worker="runner-engine"]').waitFor();
    await page.locator('tr[data-worker="client-engine"]').waitFor();
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('link', { name: id }).click();
    await page.locator('svg.graph g[data-stream="0"][data-state="running"]').waitFor();
    gate('pg').release();
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    await page.locator('svg.graph g[data-stream="0"][data-state="success"]').waitFor();
  });

  it('says a cancel was recorded when no engine runs the flow yet, then shows it cancelled by the engine that takes it', async () => {
    const worker = { heartbeat: '100ms', leaseTime: '2s' };
    const { engine: client, url } = await ui.serve({ store: store(), concurrency: 0, worker: { ...worker, id: 'client-engine' } });
    const id = await run(client, 'held');
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('#flow-status').waitFor();
    await page.getByRole('button', { name: 'Cancel…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this flow?' });
    await dialog.getByLabel('Reason (optional)').fill('ops said so');
    await dialog.getByRole('button', { name: 'Cancel flow' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Cancel of ${id} recorded (the flow is ` })
      .waitFor();
    expect((await client.get(id))?.status).to.be.oneOf(['waiting', 'running']);
    // the page shows the cancel that waits for the engine that runs the flow
    await page.locator('.facts dd', { hasText: 'ops said so' }).waitFor();
    await ui.open({ store: store(), classes: UI_CLASSES, worker: { ...worker, id: 'runner-engine' } });
    await page.locator('#flow-status', { hasText: 'cancelled' }).waitFor();
    expect((await client.get(id))?.error?.code).to.equal('E_CANCELLED');
    expect(await page.locator('.facts dt', { hasText: 'Cancel asked' }).count(), 'the cancel has taken effect').to.equal(0);
  });

  it('says a redrive was recorded when the server runs no flow (vastflow ui), then shows the flow run again by the engine', async () => {
    const worker = { heartbeat: '100ms', leaseTime: '2s' };
    const engine = await ui.open({ store: store(), classes: UI_CLASSES, worker: { ...worker, id: 'runner-engine' } });
    failing.add('flaky');
    const flow = await new Andes(engine).drawStream(new Step({ label: 'flaky' })).start();
    expect((await flow.result()).status).to.equal('fail');
    failing.delete('flaky');
    const { url, stop } = await serveUi(['--store', PG_URL, '--schema', schema, '--port', '0']);
    try {
      const { page } = await ui.visit(`${url}/#/flows/${flow.id}`);
      await page.locator('#flow-status', { hasText: 'fail' }).waitFor();
      await page.getByRole('button', { name: 'Redrive…' }).click();
      await page.getByRole('dialog', { name: 'Redrive this flow?' }).getByRole('button', { name: 'Redrive flow' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Redrive of ${flow.id} recorded` })
        .waitFor();
      await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    } finally {
      expect(await stop()).to.equal(0);
    }
  });
});
