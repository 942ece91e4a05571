// The lavapipe installer cannot be exercised for real here (Mesa is installed already), so its
// decisions are tested on sample system files; the adapter probe is tested for real.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BACKPORTS_LIST_PATH,
  BACKPORTS_SOURCES_PATH,
  backportsStanzaFromDeb822,
  classicBackportsList,
  isDebianBookworm,
  isDebianLike,
  parseOsRelease,
  planLavapipeInstall,
  runInstallPlan,
} from '../scripts/install-lavapipe.mjs';
import { probeAdapter } from './setup/ensure-webgpu.js';

const DEBIAN_12_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

const DEBIAN_13_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
VERSION_ID="13"
VERSION_CODENAME=trixie
ID=debian
`;

const UBUNTU_2404_OS_RELEASE = `# comment lines and blank lines are allowed

PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
`;

const FEDORA_OS_RELEASE = `NAME="Fedora Linux"
VERSION_ID=40
ID=fedora
PRETTY_NAME='Fedora Linux 40 (Container Image)'
`;

// /etc/apt/sources.list.d/debian.sources as shipped in the debian:12 image.
const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

const EXPECTED_BACKPORTS = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('parseOsRelease', () => {
  it('reads quoted and unquoted values, skipping comments and blank lines', () => {
    expect(parseOsRelease(DEBIAN_12_OS_RELEASE)).toMatchObject({
      ID: 'debian',
      VERSION_ID: '12',
      VERSION_CODENAME: 'bookworm',
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(parseOsRelease(UBUNTU_2404_OS_RELEASE)).toMatchObject({ ID: 'ubuntu', ID_LIKE: 'debian' });
    expect(parseOsRelease(FEDORA_OS_RELEASE).PRETTY_NAME).toBe('Fedora Linux 40 (Container Image)');
    expect(parseOsRelease('NAME="say \\"hi\\""\n').NAME).toBe('say "hi"');
  });

  it('tells Debian 12 from other Debian-like systems', () => {
    const debian12 = parseOsRelease(DEBIAN_12_OS_RELEASE);
    const debian13 = parseOsRelease(DEBIAN_13_OS_RELEASE);
    const ubuntu = parseOsRelease(UBUNTU_2404_OS_RELEASE);
    const fedora = parseOsRelease(FEDORA_OS_RELEASE);
    expect([debian12, debian13, ubuntu, fedora].map(isDebianLike)).toEqual([true, true, true, false]);
    expect([debian12, debian13, ubuntu, fedora].map(isDebianBookworm)).toEqual([true, false, false, false]);
    expect(isDebianLike({ ID: 'linuxmint', ID_LIKE: 'ubuntu debian' })).toBe(true);
  });
});

describe('backportsStanzaFromDeb822', () => {
  it('re-points the bookworm stanza of debian.sources at bookworm-backports', () => {
    expect(backportsStanzaFromDeb822(DEBIAN_SOURCES)).toBe(EXPECTED_BACKPORTS);
  });

  it('agrees with the awk command in docs/webgpu-in-node.md', () => {
    const awk = spawnSync(
      'awk',
      [
        'BEGIN{RS="";ORS="\\n\\n"} /Suites:.*bookworm( |$)/ && !done {sub(/Suites:[^\\n]*/,"Suites: bookworm-backports"); print; done=1}',
      ],
      { input: DEBIAN_SOURCES, encoding: 'utf8' },
    );
    expect(awk.status).toBe(0);
    expect(awk.stdout.trimEnd()).toBe(EXPECTED_BACKPORTS.trimEnd());
  });

  it('keeps the mirror, skips disabled and security-only stanzas, handles folded fields', () => {
    const sources = `Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://old.example.org/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb deb-src
URIs: http://mirror.example.org/debian
Suites:
 bookworm
 bookworm-updates
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----
`;
    expect(backportsStanzaFromDeb822(sources)).toBe(`Types: deb deb-src
URIs: http://mirror.example.org/debian
Suites: bookworm-backports
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----
`);
  });

  it('returns null when no stanza serves bookworm', () => {
    expect(backportsStanzaFromDeb822(DEBIAN_SOURCES.replaceAll('bookworm', 'trixie'))).toBeNull();
    expect(backportsStanzaFromDeb822('')).toBeNull();
  });
});

describe('planLavapipeInstall', () => {
  const debian12 = parseOsRelease(DEBIAN_12_OS_RELEASE);

  it('on Debian 12 as root: adds bookworm-backports from debian.sources, installs from it', () => {
    const plan = planLavapipeInstall({
      osRelease: debian12,
      isRoot: true,
      hasAptGet: true,
      debianSources: DEBIAN_SOURCES,
    });
    expect(plan).toMatchObject({
      install: true,
      sourcesFile: { path: BACKPORTS_SOURCES_PATH, contents: EXPECTED_BACKPORTS },
      commands: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers'],
      ],
    });
  });

  it('on Debian 12 without debian.sources: falls back to a classic .list line', () => {
    const plan = planLavapipeInstall({
      osRelease: debian12,
      isRoot: true,
      hasAptGet: true,
      debianSources: null,
    });
    expect(plan).toMatchObject({
      install: true,
      sourcesFile: { path: BACKPORTS_LIST_PATH, contents: classicBackportsList('bookworm') },
    });
    expect(classicBackportsList('bookworm')).toBe('deb http://deb.debian.org/debian bookworm-backports main\n');
  });

  it('on Debian 13 and Ubuntu 24.04: installs the distribution Mesa, no extra suite', () => {
    for (const text of [DEBIAN_13_OS_RELEASE, UBUNTU_2404_OS_RELEASE]) {
      const plan = planLavapipeInstall({
        osRelease: parseOsRelease(text),
        isRoot: true,
        hasAptGet: true,
        debianSources: null,
      });
      expect(plan).toMatchObject({
        install: true,
        sourcesFile: null,
        commands: [
          ['apt-get', 'update'],
          ['apt-get', 'install', '-y', 'mesa-vulkan-drivers'],
        ],
      });
    }
  });

  it('without root: installs nothing and gives the exact commands', () => {
    const plan = planLavapipeInstall({
      osRelease: debian12,
      isRoot: false,
      hasAptGet: true,
      debianSources: DEBIAN_SOURCES,
    });
    expect(plan.install).toBe(false);
    expect(plan.manual).toContain('/etc/apt/sources.list.d/bookworm-backports.sources');
    expect(plan.manual).toContain('apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
    expect(plan.manual).toContain('node scripts/install-lavapipe.mjs');
  });

  it('off Debian/Ubuntu, or without apt-get: installs nothing and says what is needed', () => {
    const fedora = planLavapipeInstall({
      osRelease: parseOsRelease(FEDORA_OS_RELEASE),
      isRoot: true,
      hasAptGet: false,
      debianSources: null,
    });
    expect(fedora.install).toBe(false);
    expect(fedora.manual).toMatch(/lavapipe/);
    const noApt = planLavapipeInstall({
      osRelease: debian12,
      isRoot: true,
      hasAptGet: false,
      debianSources: DEBIAN_SOURCES,
    });
    expect(noApt.install).toBe(false);
  });
});

describe('runInstallPlan (with harmless stand-ins for apt-get)', () => {
  it('writes the sources file, runs the commands in order, and names the fix when one fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgsl-dice-plan-'));
    try {
      const path = join(dir, 'bookworm-backports.sources');
      const plan = {
        install: true as const,
        summary: 'test',
        sourcesFile: { path, contents: EXPECTED_BACKPORTS },
        commands: [
          [process.execPath, '-e', 'process.exit(0)'],
          [process.execPath, '-e', 'process.exit(process.env.DEBIAN_FRONTEND === "noninteractive" ? 3 : 4)'],
        ],
        manual: 'apt-get install -y mesa-vulkan-drivers',
      };
      expect(() => runInstallPlan(plan)).toThrow(/exit status 3\)[^]*apt-get install -y mesa-vulkan-drivers/);
      expect(readFileSync(path, 'utf8')).toBe(EXPECTED_BACKPORTS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('probeAdapter (real, in a child process)', () => {
  it('finds the adapter that the global set-up found', () => {
    const { adapter, diagnostics } = probeAdapter();
    expect(adapter, diagnostics).not.toBeNull();
    expect(adapter!.description.length + adapter!.device.length).toBeGreaterThan(0);
    expect(adapter!.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(Array.isArray(adapter!.features)).toBe(true);
  });
});
