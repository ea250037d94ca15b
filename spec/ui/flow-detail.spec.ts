// The web UI's flow detail: the drawing coloured by state and updated live, the streams with their
// attempts and errors, and Cancel, Redrive and Send message through their confirmation dialogs.
import { expect } from 'chai';
import { Andes, Basin, Headwaters, ParallelRiver, type Engine, type Stream } from '../../lib/index.js';
import { until } from '../helpers/stores.js';
import { useUi } from './harness.js';
import {
  Charge,
  Choose,
  Courier,
  failing,
  Gated,
  gate,
  Pack,
  Post,
  Quote,
  Reserve,
  resetRivers,
  Shipping,
  Step,
  UI_CLASSES,
  Undone,
  Validate,
} from './rivers.js';

async function run(engine: Engine, ...streams: Stream[]): Promise<string> {
  return (await new Andes(engine).drawStream(...streams).start()).id;
}
const state = (page: import('playwright-core').Page, stream: string) => page.locator(`svg.graph g[data-stream="${stream}"]`).getAttribute('data-state');

describe('web UI: flow detail', function () {
  this.timeout(30_000);
  const ui = useUi();
  afterEach(resetRivers);

  it('draws every stream of a nested flow, and turns a running river green when it ends, without a reload', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = await run(
      engine,
      new Step({ label: 'first' }),
      new ParallelRiver().append(new Gated({ label: 'slow' })).append(new Step({ label: 'b1' }), new Basin('blue').drawStream(new Step({ label: 'b2' }))),
      new Choose({ branch: 'yes' }).branch('yes', new Step({ label: 'y' })).branch('no', new Step({ label: 'n' })),
    );
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('svg.graph g[data-stream="1.0.0"][data-state="running"]').waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const drawn = await page.locator('svg.graph g[data-stream]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-stream')));
    // in the page in the drawing's order, which Tab follows: a container before what it holds, top to bottom
    expect(drawn).to.deep.equal(['0', '1', '1.0.0', '1.1.0', '1.1.1', '1.1.1.0', '2', '2.0.0', '2.1.0']);
    expect(await state(page, '0')).to.equal('success');
    expect(await state(page, '1')).to.equal('running');
    expect(await page.locator('#flow-status').textContent()).to.equal('running');

    gate('slow').release();
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    await page.locator('svg.graph g[data-stream="1.0.0"][data-state="success"]').waitFor();
    expect(await state(page, '1')).to.equal('success');
    expect(await state(page, '2.0.0')).to.equal('success');
    expect(await state(page, '2.1.0')).to.equal('skipped');
    // the boxes do not overlap: every river's box is apart from every other's
    const boxes = await page
      .locator('svg.graph g.node rect')
      .evaluateAll((rs) =>
        rs
          .map((r) => (r as unknown as { getBBox(): { x: number; y: number; width: number; height: number } }).getBBox())
          .map((b) => [b.x, b.y, b.width, b.height]),
      );
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1))
        expect(a[0]! + a[2]! <= b[0]! || b[0]! + b[2]! <= a[0]! || a[1]! + a[3]! <= b[1]! || b[1]! + b[3]! <= a[1]!, 'boxes overlap').to.equal(true);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).to.equal(1);
    expect(await page.locator('#headwaters').textContent()).to.contain('"slow": true');
  });

  it("labels the timeline's axis of a flow that took a millisecond with distinct times, the last inside the drawing", async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = await run(engine, new Step({ label: 'quick' }));
    await until(async () => (await engine.get(id))?.status === 'success', 5000, 'the flow ends');
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('svg.timeline text.axis').first().waitFor();
    const labels = await page.locator('svg.timeline text.axis').allTextContents();
    expect(labels).to.have.length(5);
    expect(new Set(labels).size, labels.join(' ')).to.equal(5);
    const [right, width] = await page.locator('svg.timeline').evaluate((root) => {
      const texts = [...root.querySelectorAll('text.axis')] as unknown as Array<{ getBBox(): { x: number; width: number } }>;
      const last = texts.at(-1)!.getBBox();
      return [last.x + last.width, (root as unknown as { viewBox: { baseVal: { width: number } } }).viewBox.baseVal.width];
    });
    expect(right, 'the last label ends inside the drawing').to.be.at.most(width);
    // and a flow of exactly one millisecond, drawn by the page's own module
    const quick = await page.evaluate(async (origin) => {
      const { drawTimeline } = (await import(`${origin}/timeline.js`)) as {
        drawTimeline(flow: unknown, now?: number): { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> };
      };
      const at = 1_700_000_000_000;
      const history = [{ attempt: 1, phase: 'flow', startedAt: at, endedAt: at + 1 }];
      const svg = drawTimeline({ id: 'f', createdAt: at, updatedAt: at + 1, streams: [{ id: '0', name: 'Quick', history }] }, at + 1);
      return Array.from(svg.querySelectorAll('text.axis'), (t) => t.textContent);
    }, url);
    expect(new Set(quick).size, quick.join(' ')).to.equal(5);
  });

  it('redrives a failed flow through the Redrive button after confirmation; the attempts and errors show', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    failing.add('flaky');
    const id = await run(engine, new Step({ label: 'ok' }), new Step({ label: 'flaky' }));
    await until(async () => (await engine.get(id))?.status === 'fail', 5000, 'the flow fails');
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('#flow-status', { hasText: 'fail' }).waitFor();
    expect(await state(page, '1')).to.equal('fail');
    expect(await page.getByRole('button', { name: 'Cancel…' }).isDisabled()).to.equal(true);
    await page.locator('svg.graph g[data-stream="1"]').click();
    const details = page.locator('details[data-stream="1"]');
    expect(await details.getAttribute('open')).to.not.equal(null);
    expect(await details.locator('.errors').textContent()).to.contain('flaky failed');
    expect(await details.locator('table.history tbody tr').count()).to.equal(1);
    expect(await page.locator('svg.timeline rect.bar.err').count()).to.equal(1);

    failing.delete('flaky');
    await page.getByRole('button', { name: 'Redrive…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Redrive this flow?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Back' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await engine.get(id))?.status).to.equal('fail');
    await page.getByRole('button', { name: 'Redrive…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive flow' }).click();
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    expect(await state(page, '1')).to.equal('success');
    await page.getByRole('status').filter({ hasText: 'redriven' }).waitFor();
    // the unfolded stream stays unfolded through the redraws, and shows both attempts
    expect(await details.getAttribute('open')).to.not.equal(null);
    await until(async () => (await details.locator('table.history tbody tr').count()) === 2, 3000, 'two attempts listed');
  });

  it('offers no redrive of a failed flow whose compensations ran', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    failing.add('charge');
    const id = await run(engine, new Undone({ label: 'booked' }), new Step({ label: 'charge' }));
    await until(async () => (await engine.get(id))?.status === 'fail', 5000, 'the flow fails');
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('svg.graph g[data-stream="0"][data-state="compensated"]').waitFor();
    expect(await page.getByRole('button', { name: 'Redrive…' }).isDisabled()).to.equal(true);
    expect(await engine.redrive(id).catch((e: { code?: string }) => e.code)).to.equal('E_CONFLICT');
  });

  it('cancels a running flow with a reason through the Cancel button, and sends a message', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const id = await run(engine, new Gated({ label: 'wait' }), new Step({ label: 'after' }));
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('svg.graph g[data-stream="0"][data-state="running"]').waitFor();

    await page.getByRole('button', { name: 'Send message…' }).click();
    const send = page.getByRole('dialog', { name: 'Send a message?' });
    await send.getByLabel('Message name').fill('approval');
    await send.getByLabel('Payload (JSON)').fill('{ "ok": tru');
    await send.getByRole('button', { name: 'Send message' }).click();
    await send.getByRole('alert').filter({ hasText: 'not JSON' }).waitFor();
    await send.getByLabel('Payload (JSON)').fill('{ "ok": true }');
    await send.getByRole('button', { name: 'Send message' }).click();
    await page.getByRole('status').filter({ hasText: 'Message "approval" sent' }).waitFor();

    await page.getByRole('button', { name: 'Cancel…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this flow?' });
    expect(await dialog.getByRole('button', { name: 'Cancel flow' }).evaluate((b) => b.closest('dialog')!.contains(b.ownerDocument.activeElement))).to.equal(
      true,
    );
    await dialog.getByLabel('Reason (optional)').fill('not needed');
    await dialog.getByRole('button', { name: 'Cancel flow' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Flow ${id} cancelled.` })
      .waitFor();
    await page.locator('#flow-status', { hasText: 'cancelled' }).waitFor();
    expect(await state(page, '0')).to.equal('stopped');
    expect(await state(page, '1')).to.be.oneOf(['init', 'skipped']);
    expect(await page.getByRole('button', { name: 'Cancel…' }).isDisabled()).to.equal(true);
    const snap = await engine.get(id);
    expect(snap?.status).to.equal('cancelled');
    expect(snap?.error?.message).to.contain('not needed');
  });

  it('draws no edge through a box it does not start or end at: a fork holding a basin holding a parallel river, a tall middle branch', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    const step = (label: string) => new Step({ label });
    const id = await run(
      engine,
      new Choose({ branch: 'deep' })
        .branch('deep', new Basin('b').drawStream(new ParallelRiver().append(step('p1'), step('p2')).append(step('q1')), step('after')))
        .branch('flat', step('flat')),
      new Choose({ branch: 'flat' })
        .branch('flat', step('f2'))
        .branch('deep', new Basin('c').drawStream(new ParallelRiver().append(step('r1')).append(step('s1'), step('s2')))),
      new ParallelRiver().append(step('l')).append(step('m1'), step('m2'), step('m3')).append(step('r')),
      new Choose({ branch: 'a-branch-name-far-too-long-to-fit' }).branch('left', step('x')).branch('a-branch-name-far-too-long-to-fit', step('z')),
    );
    const { page } = await ui.visit(`${url}/#/flows/${id}`);
    await page.locator('#flow-status', { hasText: 'success' }).waitFor();
    // every edge sampled every 2 px: no point lies inside a river's box (its border may be touched)
    const crossings = await page.evaluate<string[]>(`(() => {
      const boxes = [...document.querySelectorAll('svg.graph g.node')].map((g) => [g.getAttribute('data-stream'), g.querySelector('rect').getBBox()]);
      const bad = [];
      for (const [i, path] of [...document.querySelectorAll('svg.graph g.edges path')].entries()) {
        const len = path.getTotalLength();
        for (let at = 0; at <= len; at += 2) {
          const p = path.getPointAtLength(at);
          for (const [id, b] of boxes)
            if (p.x > b.x + 1 && p.x < b.x + b.width - 1 && p.y > b.y + 1 && p.y < b.y + b.height - 1) bad.push('edge ' + i + ' through ' + id);
        }
      }
      return [...new Set(bad)];
    })()`);
    expect(crossings).to.deep.equal([]);
    // a fork's branch names stay inside its frame
    const outside = await page.evaluate<string[]>(`[...document.querySelectorAll('svg.graph g.frame')].flatMap((g) => {
      const f = g.querySelector('rect').getBBox();
      return [...g.querySelectorAll('text.branch')].filter((t) => t.getBBox().x + t.getBBox().width > f.x + f.width).map((t) => t.textContent);
    })`);
    expect(outside).to.deep.equal([]);
  });

  it('draws a flow with retries, polls, a basin, a fork and a failure (the screenshot of docs/ui-detail.png)', async () => {
    const { engine, url } = await ui.serve({ classes: UI_CLASSES });
    failing.add('charge');
    const id = await new Andes(engine)
      .drawHeadwaters(new Headwaters('order-7731').put('orderId', 7731).put('amount', 129.9))
      .drawStream(
        new Validate({ label: 'validate' }),
        new ParallelRiver()
          .append(new Reserve({ label: 'reserve', fails: 2 }), new Pack({ label: 'pack', polls: 3 }))
          .append(new Basin('payment').drawStream(new Quote({ label: 'quote', polls: 5 }), new Charge({ label: 'charge' }))),
        new Shipping({ branch: 'express' }).branch('express', new Courier({ label: 'courier' })).branch('standard', new Post({ label: 'post' })),
      )
      .start();
    const fid = id.id;
    await until(async () => (await engine.get(fid))?.status === 'fail', 5000, 'the flow fails');
    const { page } = await ui.visit(`${url}/#/flows/${fid}`);
    await page.locator('#flow-status', { hasText: 'fail' }).waitFor();
    expect(await state(page, '1.1.0.1')).to.equal('fail');
    expect(await page.locator('.flow-error').textContent()).to.contain('charge failed');
    const shot = process.env['VF_UI_SCREENSHOT'];
    if (shot !== undefined && shot !== '') {
      await page.locator('svg.graph g[data-stream="1.1.0.1"]').click();
      await page.setViewportSize({ width: 1280, height: 1120 });
      await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
      await page.screenshot({ path: shot });
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
