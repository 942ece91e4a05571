// Installs Mesa's lavapipe (Vulkan on the CPU) so dawn.node finds a WebGPU adapter on a machine
// without a GPU. Debian 12's own Mesa 22 is too old for Dawn; Mesa 25 from bookworm-backports
// works, and Debian 13 / Ubuntu 24.04 ship a new enough Mesa themselves.
//
// Run by hand as root:   node scripts/install-lavapipe.mjs
// The test set-up (test/setup/ensure-webgpu.ts) imports it when no adapter is found.
//
// The decisions (planLavapipeInstall and the helpers it uses) are pure functions of the
// machine's facts, so they are unit-tested without touching the system.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEBIAN_SOURCES_PATH = '/etc/apt/sources.list.d/debian.sources';
export const BACKPORTS_SOURCES_PATH = '/etc/apt/sources.list.d/bookworm-backports.sources';
export const BACKPORTS_LIST_PATH = '/etc/apt/sources.list.d/bookworm-backports.list';

// The same command as docs/webgpu-in-node.md: the first enabled-looking bookworm stanza, re-pointed
// at bookworm-backports. Shown to people; the installer itself uses backportsStanzaFromDeb822.
const BACKPORTS_AWK =
  `awk 'BEGIN{RS="";ORS="\\n\\n"} /Suites:.*bookworm( |$)/ && !done {sub(/Suites:[^\\n]*/,"Suites: bookworm-backports"); print; done=1}' \\\n` +
  `  ${DEBIAN_SOURCES_PATH} > ${BACKPORTS_SOURCES_PATH}`;

/** Parses os-release(5) text into its KEY=value pairs, unquoted. */
export function parseOsRelease(text) {
  const fields = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+)=(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    fields[match[1]] = value;
  }
  return fields;
}

/** True for Debian, Ubuntu and their derivatives (apt-based). */
export function isDebianLike(osRelease) {
  const ids = [osRelease.ID ?? '', ...(osRelease.ID_LIKE ?? '').split(/\s+/)];
  return ids.some((id) => id === 'debian' || id === 'ubuntu');
}

/** True for Debian 12 itself, whose Mesa must come from bookworm-backports. */
export function isDebianBookworm(osRelease) {
  return osRelease.ID === 'debian' && (osRelease.VERSION_CODENAME === 'bookworm' || osRelease.VERSION_ID === '12');
}

/**
 * From the text of a deb822 sources file (Debian 12's debian.sources), builds a stanza for
 * `<codename>-backports` on the same mirror, keyring and components as the first enabled stanza
 * serving `<codename>`. Returns null when there is no such stanza.
 */
export function backportsStanzaFromDeb822(sourcesText, codename = 'bookworm') {
  const stanzas = sourcesText.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const lines = stanza.split('\n').filter((line) => line.trim() !== '');
    const fields = deb822Fields(lines);
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const suites = (fields.get('suites') ?? '').split(/\s+/);
    if (!suites.includes(codename)) continue;

    const out = [];
    let inSuites = false;
    for (const line of lines) {
      // A field's value may continue on following lines that start with a space or tab.
      if (/^[ \t]/.test(line)) {
        if (!inSuites) out.push(line);
        continue;
      }
      inSuites = /^suites\s*:/i.test(line);
      out.push(inSuites ? `Suites: ${codename}-backports` : line);
    }
    return `${out.join('\n')}\n`;
  }
  return null;
}

/** One-line sources.list entry for `<codename>-backports`, for machines without debian.sources. */
export function classicBackportsList(codename = 'bookworm') {
  return `deb http://deb.debian.org/debian ${codename}-backports main\n`;
}

/**
 * Decides what to do on this machine.
 *
 * @param {{ osRelease: Record<string, string>, isRoot: boolean, hasAptGet: boolean,
 *           debianSources: string | null }} facts
 * @returns {{ install: true, summary: string, sourcesFile: { path: string, contents: string } | null,
 *             commands: string[][], manual: string }
 *         | { install: false, reason: string, manual: string }}
 *   `commands` are argv arrays run in order; `manual` is what a person would type instead.
 */
export function planLavapipeInstall({ osRelease, isRoot, hasAptGet, debianSources }) {
  const name = osRelease.PRETTY_NAME ?? osRelease.ID ?? 'unknown system';
  if (!isDebianLike(osRelease) || !hasAptGet) {
    return {
      install: false,
      reason: `${name} is not a Debian/Ubuntu system with apt-get; install a Vulkan driver by hand.`,
      manual: [
        "Install Mesa's lavapipe Vulkan driver (Mesa 25 or newer), e.g.",
        '  Debian 13 / Ubuntu 24.04: apt-get install -y mesa-vulkan-drivers',
        '  Fedora: dnf install -y mesa-vulkan-drivers',
        '  Arch: pacman -S vulkan-swrast',
        'or run on a machine with a GPU and its Vulkan driver.',
      ].join('\n'),
    };
  }

  const bookworm = isDebianBookworm(osRelease);
  const installArgs = bookworm
    ? ['apt-get', 'install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers']
    : ['apt-get', 'install', '-y', 'mesa-vulkan-drivers'];
  const manualLines = bookworm
    ? [
        '# as root, on Debian 12 (bookworm): Mesa 22 is too old, take Mesa 25 from bookworm-backports',
        debianSources === null ? `echo '${classicBackportsList().trim()}' > ${BACKPORTS_LIST_PATH}` : BACKPORTS_AWK,
        `apt-get update && ${installArgs.join(' ')}`,
      ]
    : ['# as root', `apt-get update && ${installArgs.join(' ')}`];
  const manual = [...manualLines, '# or, as root, from a wgsl-dice checkout: node scripts/install-lavapipe.mjs'].join(
    '\n',
  );

  if (!isRoot) {
    return { install: false, reason: 'installing Mesa needs root (this process is not root).', manual };
  }

  let sourcesFile = null;
  if (bookworm) {
    const stanza = debianSources === null ? null : backportsStanzaFromDeb822(debianSources, 'bookworm');
    sourcesFile = stanza
      ? { path: BACKPORTS_SOURCES_PATH, contents: stanza }
      : { path: BACKPORTS_LIST_PATH, contents: classicBackportsList('bookworm') };
  }
  return {
    install: true,
    summary: bookworm ? `${name}: mesa-vulkan-drivers from bookworm-backports` : `${name}: mesa-vulkan-drivers`,
    sourcesFile,
    commands: [['apt-get', 'update'], installArgs],
    manual,
  };
}

/** Reads the facts planLavapipeInstall needs from this machine. */
export function readSystemFacts() {
  const osReleasePath = ['/etc/os-release', '/usr/lib/os-release'].find((path) => existsSync(path));
  return {
    osRelease: osReleasePath ? parseOsRelease(readFileSync(osReleasePath, 'utf8')) : {},
    isRoot: process.getuid?.() === 0,
    hasAptGet: onPath('apt-get'),
    debianSources: existsSync(DEBIAN_SOURCES_PATH) ? readFileSync(DEBIAN_SOURCES_PATH, 'utf8') : null,
  };
}

/**
 * Carries out an `install: true` plan, streaming apt's output to this process's stdout/stderr
 * (all of it to stderr with `{ toStderr: true }`, for programs whose stdout is data).
 * Throws, with the manual commands, when a step fails.
 */
export function runInstallPlan(plan, { toStderr = false } = {}) {
  const log = toStderr ? console.error : console.log;
  if (plan.sourcesFile) {
    writeFileSync(plan.sourcesFile.path, plan.sourcesFile.contents);
    log(`[wgsl-dice] wrote ${plan.sourcesFile.path}:\n${plan.sourcesFile.contents.trimEnd()}`);
  }
  for (const [command, ...args] of plan.commands) {
    log(`[wgsl-dice] $ ${[command, ...args].join(' ')}`);
    const result = spawnSync(command, args, {
      stdio: ['ignore', toStderr ? 2 : 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.error || result.status !== 0) {
      const why = result.error ? result.error.message : `exit status ${result.status ?? result.signal}`;
      throw new Error(`\`${[command, ...args].join(' ')}\` failed (${why}). To do it by hand:\n${plan.manual}`);
    }
  }
}

/** Plans and runs the install on this machine; throws with the manual commands when it cannot. */
export function installLavapipe() {
  const plan = planLavapipeInstall(readSystemFacts());
  if (!plan.install) {
    throw new Error(`Cannot install Mesa lavapipe automatically: ${plan.reason}\n${plan.manual}`);
  }
  console.log(`[wgsl-dice] installing Mesa lavapipe (${plan.summary})`);
  runInstallPlan(plan);
  return plan;
}

/** True when `command` is an executable name found in a PATH directory. */
export function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

// Fields of one deb822 stanza, names lower-cased, continuation lines joined; comments dropped.
function deb822Fields(lines) {
  const fields = new Map();
  let current = null;
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (current) fields.set(current, `${fields.get(current)} ${line.trim()}`);
      continue;
    }
    const match = /^([^:\s]+)\s*:(.*)$/.exec(line);
    if (!match) continue;
    current = match[1].toLowerCase();
    fields.set(current, match[2].trim());
  }
  return fields;
}

// Only `node scripts/install-lavapipe.mjs` installs. Bundled into another program (esbuild
// builds `npm run kernel-stats`, which imports the helpers above), import.meta.url is that
// program's own file, which is the one being run: hence the name check too.
const runDirectly =
  process.argv[1] !== undefined &&
  import.meta.url.endsWith('/install-lavapipe.mjs') &&
  import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (runDirectly) {
  try {
    installLavapipe();
    console.log('[wgsl-dice] done; `npm test` checks that dawn.node now finds an adapter.');
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
