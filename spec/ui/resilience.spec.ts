// The web UI when things go wrong: the admin server goes away and comes back (the pages say so and
// read again by themselves), a deep link is malformed, and flow text is hostile (one long word,
// bidi controls).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { Andes, Headwaters, ParallelRiver, type AdminServer, type Engine, type Stream } from '../../lib/index.js';
import { until } from '../helpers/stores.js';
import { useUi } from './harness.js';
import { failing, Gated, gate, Polled, resetRivers, Step, UI_CLASSES } from './rivers.js';

async function run(engine: Engine, streams: Stream[], requestId?: string): Promise<string> {
  const andes = new Andes(engine).drawStream(...streams);
  if (requestId !== undefined) andes.drawHeadwaters(new Headwaters(requestId));
  return (await andes.start()).id;
}

/**
 * Closes `admin`, waits for the page to say the server is away, runs `whileAway`, and serves
 * `engine` again on the same port (with `token`, when given).
 */
async function awayAndBack(
  page: Page,
  engine: Engine,
  admin: AdminServer,
  whileAway: () => Promise<void> = async () => {},
  token?: string,
): Promise<AdminServer> {
  const port = Number(new URL(admin.url).port);
  await admin.close();
  await page.locator('#offline').waitFor();
  await whileAway();
  return engine.serve(token === undefined ? { port } : { port, token });
}

/**
 * In the page: the text nodes of main that hold U+202E and are not alone in an element that
 * isolates them (JSON in a `pre` puts every value between its own quotes, one per line; a
 * tooltip is plain text, where the flow's text must stand between U+2068 and U+2069).
 */
const UNISOLATED = `(() => {
  const bad = [];
  const walker = document.createTreeWalker(document.getElementById('main'), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
    if (!n.textContent.includes('\u202E')) continue;
    const el = n.parentElement;
    if (el.closest('pre') !== null) continue;
    if (el.tagName === 'title' && /\u2068[^\u2069]*\u202E[^\u2069]*\u2069/.test(n.textContent)) continue;
    if (getComputedStyle(el).unicodeBidi !== 'isolate' || el.childNodes.length !== 1) bad.push(el.tagName + ': ' + n.textContent.slice(0, 40));
  }
  return bad;
})()`;

describe('web UI: a server that goes away, bad links, hostile text', function () {
  this.timeout(30_000);
  const ui = useUi();
  let admin: AdminServer | undefined;
  afterEach(async () => {
    resetRivers();
    await admin?.close();
    admin = undefined;
  });

  /**
   * An engine served on port 0 and the flow list open on its one flow; then the server goes away,
   * a second flow starts, and the server comes back on the same port (with `token`, when given).
   */
  async function listThroughOutage(token?: string): Promise<{ page: Page; engine: Engine; second: string }> {
    const engine = await ui.open({ classes: UI_CLASSES });
    admin = await engine.serve({ port: 0 });
    const first = await run(engine, [new Step({ label: 'first' })]);
    const { page } = await ui.visit(admin.url);
    await page.locator(`tr[data-flow="${first}"]`).waitFor();
    let second = '';
    admin = await awayAndBack(page, engine, admin, async () => void (second = await run(engine, [new Step({ label: 'second' })])), token);
    return { page, engine, second };
  }

  it('says when the admin server is away, and shows the flow as it is once the server is back, without a reload', async () => {
    const engine = await ui.open({ classes: UI_CLASSES });
    admin = await engine.serve({ port: 0 });
    const id = await run(engine, [new Gated({ label: 'away' })]);
    const { page } = await ui.visit(`${admin.url}/#/flows/${id}`);
    await page.locator('#flow-status', { hasText: 'running' }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));

    admin = await awayAndBack(page, engine, admin, async () => {
      gate('away').release();
      await until(async () => (await engine.get(id))?.status === 'success', 5000, 'the flow to end while the server is away');
    });
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    await page.locator('#offline').waitFor({ state: 'detached' });
    expect(await page.locator('h1', { hasText: 'Something went wrong' }).count()).to.equal(0);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 'the page was not reloaded').to.equal(1);
  });

  it('reads the flow list and the workers again once the server is back: a flow started meanwhile shows', async () => {
    const { page, engine, second } = await listThroughOutage();
    await page.locator(`tr[data-flow="${second}"]`).waitFor();
    await page.locator('#offline').waitFor({ state: 'detached' });

    await page.getByRole('link', { name: 'Workers' }).click();
    await page.locator('table.workers tr[data-worker]').waitFor();
    admin = await awayAndBack(page, engine, admin!);
    await page.locator('#offline').waitFor({ state: 'detached' });
    await page.locator('table.workers tr[data-worker]').waitFor();
    expect(await page.locator('h1', { hasText: 'Something went wrong' }).count()).to.equal(0);
  });

  it('behind a proxy that answers 502 while the server is away, keeps the page and says the server does not answer', async () => {
    const engine = await ui.open({ classes: UI_CLASSES });
    admin = await engine.serve({ port: 0 });
    const target = new URL(admin.url);
    let up = true;
    const open = new Set<http.ServerResponse>();
    // a reverse proxy as nginx is one: it forwards, or answers 502 with a page of its own
    const proxy = http.createServer((req, res) => {
      if (!up) return void res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
      open.add(res);
      res.on('close', () => open.delete(res));
      const fwd = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      fwd.on('error', () => res.destroy());
      req.pipe(fwd);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const id = await run(engine, [new Gated({ label: 'behind' })]);
      const { page } = await ui.visit(`http://localhost:${(proxy.address() as AddressInfo).port}/#/flows/${id}`);
      await page.locator('#flow-status', { hasText: 'running' }).waitFor();
      up = false;
      for (const res of open) res.destroy();
      await page.locator('#offline').waitFor();
      gate('behind').release();
      await page.waitForTimeout(3500); // the detail page reads a running flow again every 3 s
      expect(await page.locator('h1', { hasText: 'Something went wrong' }).count()).to.equal(0);
      expect(await page.locator('#flow-status').textContent()).to.equal('running');
      up = true;
      await page.locator('#flow-status', { hasText: 'success' }).waitFor();
      await page.locator('#offline').waitFor({ state: 'detached' });
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('asks for the token when the server comes back asking for one, on a page that reads nothing by itself', async () => {
    const { page, second } = await listThroughOutage('fresh-token');
    await page.locator('#token').waitFor();
    await page.locator('#offline').waitFor({ state: 'detached' });
    await page.locator('#token').fill('fresh-token');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator(`tr[data-flow="${second}"]`).waitFor();
  });

  it('keeps the keyboard focus on the button that had it through the live redraws of a running flow', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = await run(engine, [new ParallelRiver().append(new Gated({ label: 'held' })).append(new Polled({ label: 'ticks', polls: 8 }))]);
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('#flow-status', { hasText: 'running' }).waitFor();
    await page.locator('#cancel').focus();
    await page.getByText('Blueprint', { exact: true }).click();
    await page.locator('#cancel').focus();
    // the polls redraw the page several times; the focus and the unfolded blueprint stay
    await page.locator('svg.graph g[data-stream="0.1.0"][data-state="success"]').waitFor();
    await page.waitForTimeout(300);
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).to.equal('cancel');
    expect(await page.locator('#blueprint-panel').getAttribute('open')).to.not.equal(null);
    gate('held').release();
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
  });

  it('answers a malformed deep link with "No such flow" and a path of no page with "Not found", not a script error', async () => {
    const { url } = await ui.serve({ classes: UI_CLASSES });
    const { page } = await ui.visit(`${url}/#/flows`);
    const errors: string[] = [];
    const onError = (e: Error): void => void errors.push(e.message);
    page.on('pageerror', onError);
    try {
      await page.locator('h1', { hasText: 'Flows' }).waitFor();
      await page.evaluate(`location.hash = '#/flows/%E0%A4%A'`);
      await page.locator('h1', { hasText: 'No such flow' }).waitFor();
      expect(await page.locator('main').textContent()).to.contain('%E0%A4%A');
      await page.evaluate(`location.hash = '#/flows/a/b'`);
      await page.locator('h1', { hasText: 'Not found' }).waitFor();
    } finally {
      page.off('pageerror', onError);
    }
    expect(errors).to.deep.equal([]);
  });

  it('keeps the page as wide as the window for one long word, and isolates bidi controls in flow text', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const label = `${'w'.repeat(3000)}\u202Eevil`;
    failing.add(label);
    const requestId = `order-\u202E-${'r'.repeat(500)}`;
    const id = await run(engine, [new Step({ label })], requestId);
    await until(async () => (await engine.get(id))?.status === 'fail', 5000, 'the flow to fail');
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('.flow-error').waitFor();
    await page.locator('details.stream summary').first().click();
    const width = (): Promise<{ page: number; window: number }> =>
      page.evaluate(`({ page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth })`);
    const detail = await width();
    expect(detail.page, 'the detail page is no wider than the window').to.be.at.most(detail.window);

    await page.getByRole('link', { name: '« Flows' }).click();
    await page.locator(`tr[data-flow="${id}"]`).waitFor();
    const list = await width();
    expect(list.page, 'the list is no wider than the window').to.be.at.most(list.window);

    // every piece of flow text that holds U+202E is isolated from the page's own words
    for (const hash of [`#/flows/${id}`, '#/flows']) {
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
      await page.locator(hash === '#/flows' ? `tr[data-flow="${id}"]` : '.flow-error').waitFor();
      const unisolated = await page.evaluate<string[]>(UNISOLATED);
      expect(unisolated, hash).to.deep.equal([]);
    }
  });
});
