// The web UI's flow list: counts per status, the status filter, search by id or requestId, paging,
// and a flow appearing without a reload.
import { expect } from 'chai';
import { Andes, Headwaters, type Engine, type Stream } from '../../lib/index.js';
import { until } from '../helpers/stores.js';
import { useUi } from './harness.js';
import { failing, Gated, gate, resetRivers, Step, UI_CLASSES } from './rivers.js';

async function run(engine: Engine, requestId: string, ...streams: Stream[]): Promise<string> {
  const flow = await new Andes(engine)
    .drawHeadwaters(new Headwaters(requestId))
    .drawStream(...streams)
    .start();
  return flow.id;
}
async function settled(engine: Engine, ...ids: string[]): Promise<void> {
  await until(
    async () => (await Promise.all(ids.map((id) => engine.get(id)))).every((f) => f?.status === 'success' || f?.status === 'fail'),
    5000,
    'flows end',
  );
}

describe('web UI: flow list', function () {
  this.timeout(30_000);
  const ui = useUi();
  afterEach(resetRivers);

  it('counts the flows per status, filters by status and pages newest first', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    failing.add('bad');
    const ok: string[] = [];
    for (let i = 0; i < 3; i++) ok.push(await run(engine, `ok-${i}`, new Step({ label: 'a' })));
    const bad = [await run(engine, 'bad-0', new Step({ label: 'bad' })), await run(engine, 'bad-1', new Step({ label: 'bad' }))];
    const live = await run(engine, 'live-0', new Gated({ label: 'g' }));
    await settled(engine, ...ok, ...bad);

    const { page } = await ui.visit(url);
    const count = (s: string) => page.locator(`.counts [data-status="${s}"] b`);
    await page.locator('table.flows').waitFor();
    expect(await count('all').textContent()).to.equal('6');
    expect(await count('success').textContent()).to.equal('3');
    expect(await count('fail').textContent()).to.equal('2');
    expect(await count('running').textContent()).to.equal('1');
    expect(await count('cancelled').textContent()).to.equal('0');
    const ids = await page.locator('table.flows tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-flow')));
    expect(ids).to.deep.equal([live, ...[...bad].reverse(), ...[...ok].reverse()]);

    await page.getByRole('link', { name: /^fail/ }).click();
    await page.waitForURL(/status=fail/);
    await page.locator('h1', { hasText: 'Flows: fail' }).waitFor();
    // the heading changes at once; the rows once the filtered listing has come back
    const failRows = () => page.locator('table.flows tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-flow')));
    await until(async () => (await failRows()).join() === [bad[1], bad[0]].join(), 3000, 'the failed flows listed');
    expect(await failRows()).to.deep.equal([bad[1], bad[0]]);
    expect(await page.locator('.counts [aria-current="page"]').getAttribute('data-status')).to.equal('fail');

    // two a page: three pages of six, then back to the newest
    await page.goto(`${url}/#/flows?limit=2`);
    const rows = () => page.locator('table.flows tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-flow')));
    await page.locator('table.flows').waitFor();
    expect(await rows()).to.deep.equal([live, bad[1]]);
    await page.getByRole('link', { name: 'Older »' }).click();
    await page.waitForURL(/before=/);
    await until(async () => (await rows())[0] === bad[0], 3000, 'page 2');
    expect(await rows()).to.deep.equal([bad[0], ok[2]]);
    await page.getByRole('link', { name: 'Older »' }).click();
    await until(async () => (await rows())[0] === ok[1], 3000, 'page 3');
    expect(await rows()).to.deep.equal([ok[1], ok[0]]);
    expect(await page.getByRole('link', { name: 'Older »' }).count()).to.equal(0);
    await page.getByRole('link', { name: '« Newest' }).click();
    await until(async () => (await rows())[0] === live, 3000, 'page 1');
    gate('g').release();
  });

  it('finds a flow by its id or its requestId, and says when none has it', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = await run(engine, 'order-42', new Step({ label: 'a' }));
    await settled(engine, id);
    const { page } = await ui.visit(url);
    const search = page.getByLabel('Find a flow');
    await search.fill('order-42');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(new RegExp(`#/flows/${id}$`));
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();

    await page.goto(`${url}/#/flows`);
    await search.fill(id);
    await search.press('Enter');
    await page.waitForURL(new RegExp(`#/flows/${id}$`));
    expect(await page.locator('h1').textContent()).to.contain(id);

    await page.goto(`${url}/#/flows`);
    await search.fill('no-such-flow');
    await search.press('Enter');
    await page.getByRole('status').filter({ hasText: 'No flow has the id or requestId "no-such-flow".' }).waitFor();
  });

  it('shows a flow started while the list is open, and its end, without a reload', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const { page } = await ui.visit(url);
    await page.getByText('No flows yet.').waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const id = await run(engine, 'late', new Gated({ label: 'late' }));
    await page.locator(`tr[data-flow="${id}"] .badge`, { hasText: 'running' }).waitFor();
    gate('late').release();
    await page.locator(`tr[data-flow="${id}"] .badge`, { hasText: 'success' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).to.equal(1);
  });
});
