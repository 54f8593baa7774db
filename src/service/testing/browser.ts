/**
 * Headless Chromium for the UI tests and the benchmark: Debian's chromium
 * driven by playwright-core, isolated (fresh profile, no network services).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WIRESCOPE_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1600, height: 1000 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'wst-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    return {
      context,
      close: async () => {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A fresh browser with one page at `url` of the service's web UI, returned
 * once the UI marks itself ready (body[data-ready]); the page's script errors
 * and Content-Security-Policy violations are pushed to `errors`. The browser
 * is closed again if the page never gets ready.
 */
export async function openUi(url: string, errors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // What the service's Content-Security-Policy refuses (an inline style, a foreign script) is no
    // exception, only a console error: a page that works only without the policy fails the tests.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
    return { browser, page };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/**
 * Screenshot of one element. The UI re-renders a card when the service pushes a
 * change, so the element may be replaced while Playwright waits for it to be
 * stable ("Element is not attached to the DOM"); the locator then finds the new one.
 */
export async function screenshotOf(locator: Locator, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await locator.screenshot({ path });
      return;
    } catch (err) {
      // A live change redraws the cards (the host is busy while tests run): the element may be
      // replaced or not laid out yet at the moment of the shot; the next attempt finds the new one.
      if (attempt >= 5 || !/not attached to the DOM|not visible|not stable/.test(String(err))) throw err;
    }
  }
}

/** The element's box once it is laid out: a redraw between finding and measuring it is retried. */
export async function boxOf(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  for (let attempt = 1; ; attempt++) {
    await locator.waitFor();
    const box = await locator.boundingBox();
    if (box) return box;
    if (attempt >= 20) throw new Error('the element has no box after 20 tries');
    await new Promise((r) => setTimeout(r, 100));
  }
}
