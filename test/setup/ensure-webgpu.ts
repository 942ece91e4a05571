// Vitest globalSetup: makes sure dawn.node finds a WebGPU adapter before any test runs.
// GPU tests are never skipped: without an adapter we install Mesa's lavapipe where we can
// (root on Debian/Ubuntu, as in CI) and otherwise fail the whole run with the commands to type.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { planLavapipeInstall, readSystemFacts, runInstallPlan } from '../../scripts/install-lavapipe.mjs';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

export interface AdapterProbe {
  adapter: AdapterSummary | null;
  /** What the probe process reported besides the adapter (stderr, exit status), for error messages. */
  diagnostics: string;
}

const PROBE_SCRIPT = fileURLToPath(new URL('./probe-adapter.mjs', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE_MARKER = 'WGSL_DICE_ADAPTER ';
const PROBE_TIMEOUT_MS = 120_000;

/** Asks dawn.node for an adapter in a child process (see probe-adapter.mjs). */
export function probeAdapter(): AdapterProbe {
  const result = spawnSync(process.execPath, [PROBE_SCRIPT], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
  });
  const stdout = result.stdout ?? '';
  const at = stdout.indexOf(PROBE_MARKER);
  const json = at < 0 ? null : stdout.slice(at + PROBE_MARKER.length).split('\n', 1)[0];
  const adapter = json === null ? null : (JSON.parse(json) as AdapterSummary | null);

  const status = result.error
    ? `probe failed: ${result.error.message}`
    : `probe exit status ${result.status ?? result.signal}`;
  const output = `${stdout.replace(/WGSL_DICE_ADAPTER [^\n]*\n?/, '')}${result.stderr ?? ''}`.trim();
  return { adapter, diagnostics: output ? `${status}; output:\n${output.slice(-4000)}` : status };
}

export default async function ensureWebGpu(): Promise<void> {
  const probe = probeAdapter();
  if (probe.adapter) {
    announce(probe.adapter);
    return;
  }

  const plan = planLavapipeInstall(readSystemFacts());
  if (!plan.install) {
    throw new Error(noAdapterMessage(probe, `${plan.reason}\nTo fix it:\n${plan.manual}`));
  }
  console.log(`[wgsl-dice] no WebGPU adapter: installing Mesa lavapipe (${plan.summary})`);
  runInstallPlan(plan);

  const reprobe = probeAdapter();
  if (!reprobe.adapter) {
    throw new Error(
      noAdapterMessage(
        reprobe,
        `Mesa lavapipe was installed (${plan.summary}) but dawn.node still finds no adapter.\n` +
          `The commands that were run:\n${plan.manual}`,
      ),
    );
  }
  announce(reprobe.adapter);
}

function announce(adapter: AdapterSummary): void {
  console.log(`[wgsl-dice] WebGPU adapter: ${adapter.description || `${adapter.vendor} ${adapter.device}`}`);
}

function noAdapterMessage(probe: AdapterProbe, advice: string): string {
  return (
    '[wgsl-dice] no WebGPU adapter, so the GPU tests cannot run (they are never skipped).\n' +
    `${advice}\n(${probe.diagnostics})`
  );
}
