// One browser test's page: the static routes served on 127.0.0.1, a fresh headless Chromium, and
// '/' loaded until the page's script has defined its test entry point on window.
import type { Page } from 'playwright-core';
import { launchChromium, type ChromiumSession } from './chromium.js';
import { serveStatic, type StaticRoute } from './static-server.js';

export interface TestPage {
  page: Page;
  /** What the page printed or threw, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/** Serves `routes`, opens '/' and waits until `window[readyGlobal]` is defined. */
export async function openTestPage(
  routes: Record<string, StaticRoute>,
  readyGlobal: string,
  timeoutMs = 30_000,
): Promise<TestPage> {
  const server = await serveStatic(routes);
  let browser: ChromiumSession | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${server.origin}/`);
    const session = browser;
    await page
      .waitForFunction((name) => (window as unknown as Record<string, unknown>)[name] !== undefined, readyGlobal, {
        timeout: timeoutMs,
      })
      .catch((error: Error) => {
        throw new Error(`the test page did not load: ${error.message}\n${session.log.join('\n')}`);
      });
    return {
      page,
      log: browser.log,
      close: async () => {
        await session.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}
