// Drives the web UI in real Chromium (playwright-core, Debian's chromium) against a real engine
// and its admin server on port 0. Everything goes through the page and the public API only.
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Engine, type EngineOptions } from '../../lib/index.js';
import { silent } from '../helpers/stores.js';

/** Where the browser is: env CHROMIUM_PATH, else Debian's package (`apt-get install chromium`). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A page of the UI and every URL it asked for. */
export interface UiPage {
  page: Page;
  /** Every request the page made since the test began, in order. */
  requests: string[];
}

/** What a spec opens: engines with their admin servers, and the page pointed at one. */
export interface UiHarness {
  /** Opens an engine on `store` (default: memory) and serves it on port 0; both closed after the test. */
  serve(options?: EngineOptions, serve?: { token?: string }): Promise<{ engine: Engine; url: string }>;
  /** Opens an engine (default: on memory) that is not served; closed after the test. */
  open(options?: EngineOptions): Promise<Engine>;
  /** The page, gone to `url`. */
  visit(url: string): Promise<UiPage>;
}

// One browser and one page for the whole run: starting Chromium and a renderer costs seconds on a
// busy machine. Each test's server listens on a port of its own, so each test's page has an origin
// of its own (its own sessionStorage, its own token), and the page is blanked after each test.
let shared: Promise<{ browser: Browser; context: BrowserContext; page: Page }> | undefined;
let requests: string[] = [];

function browserPage(): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  shared ??= (async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('request', (r) => void requests.push(r.url()));
    return { browser, context, page };
  })();
  return shared;
}

// a root hook: after every spec file has run
after(async () => {
  const s = shared;
  shared = undefined;
  if (s !== undefined) await (await s).browser.close();
});

/**
 * Registers hooks in the current describe: after each test, the check that no request left the
 * server's origin, then the page blanked and everything the test opened closed.
 */
export function useUi(): UiHarness {
  const closers: Array<() => Promise<void>> = [];
  let origin: string | undefined;
  before(async function () {
    this.timeout(30_000); // the first file's: Chromium starts
    await browserPage();
  });
  beforeEach(() => {
    requests = [];
    origin = undefined;
  });
  afterEach(async function () {
    this.timeout(15_000);
    try {
      if (origin !== undefined) {
        const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && u !== 'about:blank');
        expect(foreign, 'requests that left the server origin').to.deep.equal([]);
      }
    } finally {
      if (shared !== undefined) await (await shared).page.goto('about:blank');
      for (const close of closers.splice(0).reverse()) await close();
    }
  });
  return {
    async open(options = {}) {
      const engine = await Engine.open({ store: 'memory', logger: silent, closeTimeout: 200, ...options });
      closers.push(() => engine.close());
      return engine;
    },
    async serve(options = {}, serve = {}) {
      const engine = await this.open(options);
      const admin = await engine.serve({ port: 0, ...serve });
      closers.push(() => admin.close());
      return { engine, url: admin.url };
    },
    async visit(url) {
      const { page } = await browserPage();
      origin = new URL(url).origin;
      await page.goto(url);
      return { page, requests };
    },
  };
}
