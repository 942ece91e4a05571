// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests (test/browser.test.ts,
// test/demo.test.ts), which drive it with playwright-core. Playwright's own browser downloads are
// not used: only Debian packages are reachable in CI, and Debian's Chromium runs WebGPU on
// SwiftShader (Vulkan on the CPU) with no GPU.
//
// Run by hand:   node scripts/install-chromium.mjs
// The browser tests import ensureChromium() and call it before launching.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const INSTALL_COMMAND = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium';

/**
 * Returns CHROMIUM_PATH, installing Debian's `chromium` package first when it is missing and
 * this process is root on Debian/Ubuntu. Elsewhere it throws with the command to run.
 */
export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const refusal = whyNotInstall();
  if (refusal) {
    throw new Error(
      `${CHROMIUM_PATH} is missing and cannot be installed here (${refusal}).\n` +
        `Install Debian's Chromium as root:\n  ${INSTALL_COMMAND}`,
    );
  }
  console.log(`[wgsl-dice] ${CHROMIUM_PATH} is missing: running \`${INSTALL_COMMAND}\``);
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const result = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) {
      throw new Error(
        `\`apt-get ${args.join(' ')}\` failed (${result.error?.message ?? `exit status ${result.status}`}).\n` +
          `Install Debian's Chromium as root:\n  ${INSTALL_COMMAND}`,
      );
    }
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing.`);
  }
  return CHROMIUM_PATH;
}

function whyNotInstall() {
  if (process.platform !== 'linux') return `platform ${process.platform}`;
  if (process.getuid?.() !== 0) return 'not running as root';
  let osRelease;
  try {
    osRelease = readFileSync('/etc/os-release', 'utf8');
  } catch {
    return 'no /etc/os-release';
  }
  if (!/^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease)) return 'not Debian or Ubuntu';
  const aptGet = spawnSync('apt-get', ['--version'], { stdio: 'ignore' });
  if (aptGet.status !== 0) return 'apt-get not found';
  return null;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(ensureChromium());
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
