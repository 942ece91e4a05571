/**
 * The host tools `npm run kernel-stats` needs besides Node: gcc and the Vulkan headers and
 * loader (to build scripts/kernel-stats/kstats.c), SPIRV-Tools' spirv-as (Dawn prints SPIR-V as
 * text) and Mesa's RADV driver (the compiler). Installed with apt as
 * scripts/install-lavapipe.mjs installs lavapipe, whose plan this one extends (RADV and lavapipe
 * are the same Debian package); where that is not possible, the error says what to run.
 *
 * planToolInstall is a pure function of the machine's facts, tested without touching the system.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  isDebianLike,
  onPath,
  planLavapipeInstall,
  readSystemFacts,
  runInstallPlan,
  type InstallPlan,
  type SystemFacts,
} from '../../scripts/install-lavapipe.mjs';

/** What the tools need, by the Debian package that provides it. */
export interface ToolFacts extends SystemFacts {
  /** Debian packages whose files are missing here: gcc, libvulkan-dev, spirv-tools, mesa-vulkan-drivers. */
  missing: readonly string[];
}

const ICD_DIRECTORIES = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const HEADER_DIRECTORIES = ['/usr/include', '/usr/local/include'];

/** RADV's Vulkan ICD manifest (radeon_icd.json, radeon_icd.x86_64.json on some systems), or undefined. */
export function findRadvIcd(): string | undefined {
  for (const dir of ICD_DIRECTORIES) {
    if (!existsSync(dir)) continue;
    const manifest = readdirSync(dir)
      .filter((name) => /^radeon_icd(\.[\w]+)?\.json$/.test(name))
      .sort()[0];
    if (manifest) return join(dir, manifest);
  }
  return undefined;
}

/** Reads the facts planToolInstall needs from this machine. */
export function readToolFacts(): ToolFacts {
  const missing: string[] = [];
  if (!onPath('gcc')) missing.push('gcc');
  const linkable =
    onPath('gcc') &&
    execFileSync('gcc', ['-print-file-name=libvulkan.so'], { encoding: 'utf8' }).trim().startsWith('/');
  if (!HEADER_DIRECTORIES.some((dir) => existsSync(join(dir, 'vulkan/vulkan.h'))) || !linkable)
    missing.push('libvulkan-dev');
  if (!onPath('spirv-as')) missing.push('spirv-tools');
  if (!findRadvIcd()) missing.push('mesa-vulkan-drivers');
  return { ...readSystemFacts(), missing };
}

const OTHER_SYSTEMS = [
  "Install a C compiler, the Vulkan headers and loader, SPIRV-Tools (spirv-as) and Mesa's RADV driver, e.g.",
  '  Fedora: dnf install -y gcc vulkan-headers vulkan-loader-devel spirv-tools mesa-vulkan-drivers',
  '  Arch: pacman -S gcc vulkan-headers vulkan-icd-loader spirv-tools vulkan-radeon',
].join('\n');

/**
 * Decides what to install. `null`: nothing is missing. Debian 12's own Mesa 22 is too old for
 * Dawn, so mesa-vulkan-drivers comes as the lavapipe installer takes it (bookworm-backports
 * there); the other packages come from the release itself.
 */
export function planToolInstall(facts: ToolFacts): InstallPlan | null {
  if (facts.missing.length === 0) return null;
  const name = facts.osRelease.PRETTY_NAME ?? facts.osRelease.ID ?? 'unknown system';
  if (!isDebianLike(facts.osRelease) || !facts.hasAptGet) {
    return {
      install: false,
      reason: `${name} is not a Debian/Ubuntu system with apt-get; install ${facts.missing.join(', ')} (or your system's equivalents) by hand.`,
      manual: OTHER_SYSTEMS,
    };
  }
  const plain = facts.missing.filter((p) => p !== 'mesa-vulkan-drivers');
  const mesa = facts.missing.includes('mesa-vulkan-drivers') ? planLavapipeInstall(facts) : null;
  const installPlain = plain.length ? ['apt-get', 'install', '-y', ...plain] : null;
  const manual = [
    '# as root',
    ...(installPlain ? [`apt-get update && ${installPlain.join(' ')}`] : []),
    ...(mesa ? [mesa.manual] : []),
  ].join('\n');
  if (!facts.isRoot)
    return { install: false, reason: 'installing packages needs root (this process is not root).', manual };
  if (mesa && !mesa.install) return { install: false, reason: mesa.reason, manual };
  return {
    install: true,
    summary: `${name}: ${facts.missing.join(' ')}${mesa && mesa.sourcesFile ? ' (Mesa from bookworm-backports)' : ''}`,
    sourcesFile: mesa?.sourcesFile ?? null,
    // The lavapipe plan begins with its own `apt-get update` (after writing its sources file).
    commands: mesa
      ? [...mesa.commands.slice(0, 1), ...(installPlain ? [installPlain] : []), ...mesa.commands.slice(1)]
      : [['apt-get', 'update'], installPlain!],
    manual,
  };
}

/** Installs what is missing (progress on stderr); throws with the manual commands when it cannot. */
export function ensureTools(): void {
  const plan = planToolInstall(readToolFacts());
  if (!plan) return;
  if (!plan.install)
    throw new Error(`Cannot install the kernel-stats tools automatically: ${plan.reason}\n${plan.manual}`);
  console.error(`[wgsl-dice] installing the kernel-stats tools (${plan.summary})`);
  runInstallPlan(plan, { toStderr: true });
}

/** Runs a tool; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 1 << 28 });
  if (result.error) throw new Error(`${command} did not run: ${result.error.message}`);
  if (result.status !== 0) {
    const shown = args.length > 4 ? [...args.slice(0, 3), `... (${args.length} arguments)`] : args;
    throw new Error(
      `\`${[command, ...shown].join(' ')}\` failed (exit status ${result.status ?? result.signal}):\n${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

/** Builds kstats.c into `output` (a second or so with gcc). */
export function buildKstats(source: string, output: string): void {
  run('gcc', ['-std=c11', '-O2', '-Wall', '-o', output, source, '-lvulkan']);
}

/**
 * Assembles one pipeline's SPIR-V text for the SPIR-V version Dawn wrote (its `; Version: 1.4`
 * header), so the driver gets the module Dawn would have given it, not one upgraded to a newer
 * version by the assembler's default target.
 */
export function assemble(assemblyPath: string, assembly: string, output: string): void {
  const version = /^; Version: (\d+\.\d+)/m.exec(assembly)?.[1];
  if (!version) throw new Error(`${assemblyPath}: no '; Version: X.Y' header, is this spirv-dis output?`);
  run('spirv-as', ['--target-env', `spv${version}`, assemblyPath, '-o', output]);
}

/** kstats' output for the given SPIR-V files, compiled by RADV for `family` (navi31, navi21, ...) on its null device. */
export function compileForFamily(kstats: string, family: string, files: readonly string[]): string {
  const icd = findRadvIcd();
  if (!icd)
    throw new Error("Mesa's RADV driver (radeon_icd.json) is not installed: apt-get install mesa-vulkan-drivers");
  try {
    return run(kstats, files, {
      ...process.env,
      RADV_FORCE_FAMILY: family,
      // The loader's old and new names for "only this driver".
      VK_ICD_FILENAMES: icd,
      VK_DRIVER_FILES: icd,
      // Statistics come from a compile; a cache hit from an earlier run must not stand in for one.
      MESA_SHADER_CACHE_DISABLE: 'true',
    });
  } catch (error) {
    // RADV aborts on a family it does not know.
    throw new Error(
      `${(error as Error).message}\nIs '${family}' a GPU family RADV knows (navi31, navi21, navi10, ...; not gfx1100)?`,
      { cause: error },
    );
  }
}
