// Asks dawn.node for an adapter and prints one line: `WGSL_DICE_ADAPTER ` then JSON of the
// adapter's info, features and limits, or null (ensure-webgpu.ts looks for that prefix, since
// Mesa may print too).
// Run as a child process so that a crash or hang in the native addon cannot take down the test
// runner, and so the runner never loads dawn.node itself.
import { tmpdir } from 'node:os';

process.env.XDG_RUNTIME_DIR ??= tmpdir();
// Imported only now, after XDG_RUNTIME_DIR is set, so Mesa never sees it unset.
const { create } = await import('webgpu');
// Pinned: collecting the GPU object while the addon still works with it crashes the process.
globalThis.wgslDiceProbeGpu = create(['disable-dawn-features=timestamp_quantization']);
const adapter = await globalThis.wgslDiceProbeGpu.requestAdapter();
const info = adapter && {
  vendor: adapter.info.vendor,
  architecture: adapter.info.architecture,
  device: adapter.info.device,
  description: adapter.info.description,
  // Features and limits let tests check requestNodeDevice against an independent look.
  features: [...adapter.features].sort(),
  limits: Object.fromEntries(limitNames(adapter.limits).map((name) => [name, adapter.limits[name]])),
};
process.stdout.write(`WGSL_DICE_ADAPTER ${JSON.stringify(info)}\n`);

// GPUSupportedLimits exposes its limits as getters on the prototype.
function limitNames(limits) {
  const names = [];
  for (const name in limits) if (typeof limits[name] === 'number') names.push(name);
  return names;
}
