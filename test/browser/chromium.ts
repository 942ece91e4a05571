// Debian's Chromium driven by playwright-core, for the tests that run wgsl-dice in a real
// browser. Chromium's WebGPU runs on SwiftShader (Vulkan on the CPU) without a GPU; on this
// machine type no extra flag was needed for it (checked: --enable-features=Vulkan,
// --use-webgpu-adapter=swiftshader and --use-angle=swiftshader change nothing), so none is passed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALLER = join(REPO_ROOT, 'scripts/install-chromium.mjs');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Path of Debian's Chromium, installed first (as root on Debian) by scripts/install-chromium.mjs
 * when missing; otherwise throws with the command to run. Run as a child process so apt's
 * output streams to the test log and the script stays plain JS with no build step.
 */
export function ensureChromium(): string {
  const result = spawnSync(process.execPath, [INSTALLER], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  const lines = (result.stdout ?? '').trim().split('\n');
  if (result.status !== 0) {
    throw new Error(`Chromium is needed for the browser tests and could not be provided:\n${lines.join('\n')}`);
  }
  return lines[lines.length - 1];
}

export interface ChromiumSession {
  context: BrowserContext;
  /** A new page whose console, errors and crashes are recorded in `log`. */
  newPage(): Promise<Page>;
  /** What the pages printed or threw, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/** Launches headless Chromium on a fresh profile directory, removed again by close(). */
export async function launchChromium(): Promise<ChromiumSession> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'wgsl-dice-chromium-'));
  const log: string[] = [];
  let context: BrowserContext;
  try {
    // launchPersistentContext takes the profile directory Playwright refuses in `args`.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    log,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (message) => log.push(`console.${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => log.push(`page error: ${error.stack ?? error.message}`));
      page.on('crash', () => log.push('page crashed'));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
