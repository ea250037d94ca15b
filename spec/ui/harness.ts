// Drives the web UI in real Chromium (playwright-core, Debian's chromium) against a real engine
// and its admin server on port 0. Everything goes through the page and the public API only.
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Engine, type EngineOptions } from '../../lib/index.js';
import { silent } from '../helpers/stores.js';

/** Where the browser is: env CHROMIUM_PATH, else Debian's package (`apt-get install chromium`). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A page of the UI and every URL it asked for. */
export interface UiPage {
  page: Page;
  /** Every request the page made, in order. */
  requests: string[];
}

/** What a spec opens: engines with their admin servers, and pages in a fresh browser context each. */
export interface UiHarness {
  /** Opens an engine on `store` (default: memory) and serves it on port 0; both closed after the test. */
  serve(options?: EngineOptions, serve?: { token?: string }): Promise<{ engine: Engine; url: string }>;
  /** A new page at `url` (in a context of its own), closed after the test. */
  visit(url: string): Promise<UiPage>;
}

/**
 * Registers hooks in the current describe: one browser for the file, and after each test the
 * check that no request left the server's origin, then everything it opened closed.
 */
export function useUi(): UiHarness {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const closers: Array<() => Promise<void>> = [];
  const pages: Array<{ origin: string; requests: string[] }> = [];
  before(async function () {
    this.timeout(30_000);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    browser = undefined;
  });
  afterEach(async () => {
    try {
      for (const p of pages.splice(0)) {
        const foreign = p.requests.filter((u) => !u.startsWith(`${p.origin}/`) && !u.startsWith('data:'));
        expect(foreign, 'requests that left the server origin').to.deep.equal([]);
      }
    } finally {
      for (const c of contexts.splice(0)) await c.close();
      for (const close of closers.splice(0).reverse()) await close();
    }
  });
  return {
    async serve(options = {}, serve = {}) {
      const engine = await Engine.open({ store: 'memory', logger: silent, closeTimeout: 200, ...options });
      closers.push(() => engine.close());
      const admin = await engine.serve({ port: 0, ...serve });
      closers.push(() => admin.close());
      return { engine, url: admin.url };
    },
    async visit(url) {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => void requests.push(r.url()));
      pages.push({ origin: new URL(url).origin, requests });
      await page.goto(url);
      return { page, requests };
    },
  };
}
