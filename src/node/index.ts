/**
 * `wgsl-dice/node`: a WebGPU device in Node through Dawn's dawn.node (the `webgpu` package).
 *
 * This is the only module that imports `webgpu`, so browser bundles of the core never see the
 * native addon. It loads `webgpu` on first use (a dynamic import): `webgpu` is an optional peer
 * dependency, and without it this module still loads and its functions throw
 * {@link WebGpuUnavailableError} saying `npm install webgpu`.
 */
import { tmpdir } from 'node:os';

/** Options for {@link requestNodeDevice}. */
export interface NodeDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Extra flags for dawn.node's `create()`, e.g. `'backend=vulkan'`, `'adapter=NVIDIA'`. */
  dawnFlags?: string[];
  /** Features the device must have; requesting one the adapter lacks rejects. */
  requiredFeatures?: GPUFeatureName[];
  /** Limits that win over the adapter maxima this module requests by default. */
  requiredLimits?: Record<string, number>;
  /** Called for each uncaptured GPU error, after it has been stored for {@link takeUncapturedErrors}. */
  onUncapturedError?: (error: GPUError) => void;
  label?: string;
}

/**
 * Thrown by {@link requestNodeDevice} and {@link nodeGpu} when the `webgpu` package is not
 * installed (or its native addon does not load), or when dawn.node finds no adapter (no GPU, no
 * usable Vulkan driver). The message says what to install.
 */
export class WebGpuUnavailableError extends Error {
  readonly code = 'WEBGPU_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebGpuUnavailableError';
  }
}

type WebGpuModule = typeof import('webgpu');

const MISSING_PACKAGE_HINT = [
  "wgsl-dice/node needs the `webgpu` package (Dawn's dawn.node), an optional peer dependency that is not installed.",
  'Install it next to wgsl-dice:',
  '  npm install webgpu',
].join('\n');

let webGpuModule: Promise<WebGpuModule> | undefined;

/** Loads `webgpu` once; a missing package or an addon that fails to load becomes WebGpuUnavailableError. */
function loadWebGpu(): Promise<WebGpuModule> {
  webGpuModule ??= import('webgpu').catch((error: unknown) => {
    webGpuModule = undefined; // installing it later in the same process can still succeed
    if (isMissingWebGpuPackage(error)) throw new WebGpuUnavailableError(MISSING_PACKAGE_HINT, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new WebGpuUnavailableError(
      `The \`webgpu\` package (dawn.node) is installed but did not load: ${reason}\n` +
        'Reinstall it for this platform and Node version: npm install webgpu',
      { cause: error },
    );
  });
  return webGpuModule;
}

function isMissingWebGpuPackage(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && /['"]webgpu['"]/.test(message);
}

// Without it, timestamps are rounded to 65,536 ns, too coarse to time one kernel.
const TIMESTAMP_FLAG = 'disable-dawn-features=timestamp_quantization';

/**
 * The limits requestNodeDevice raises to the adapter's maximum. Large losses need bindings and
 * buffers beyond WebGPU's defaults (128 MiB, 256 MiB); taking what the adapter offers lets the
 * planner size work from the real maxima.
 */
export const ADAPTER_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

// If V8 collects a GPU object from create() while one of its devices lives, the process dies
// later at random (futex errors, SIGSEGV). So each one is pinned for the life of the process:
// held by this Map, and the Map by globalThis under a registry symbol, which also lets a second
// copy of this module (src and dist loaded together) reuse the same objects.
const PINNED_GPUS = Symbol.for('wgsl-dice.node.pinnedGpus');
const pinHolder = globalThis as typeof globalThis & { [PINNED_GPUS]?: Map<string, GPU> };
const gpuByFlags: Map<string, GPU> = (pinHolder[PINNED_GPUS] ??= new Map());

const uncapturedErrors = new WeakMap<GPUDevice, GPUError[]>();

const INSTALL_HINT = [
  'dawn.node found no WebGPU adapter: no GPU and no usable Vulkan driver.',
  "On a machine without a GPU, install Mesa's lavapipe (CPU Vulkan, Mesa 25 or newer), as root:",
  '  Debian 12 (bookworm): Mesa 22 is too old; add bookworm-backports, then install from it:',
  `    awk 'BEGIN{RS="";ORS="\\n\\n"} /Suites:.*bookworm( |$)/ && !done {sub(/Suites:[^\\n]*/,"Suites: bookworm-backports"); print; done=1}' \\`,
  '      /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/bookworm-backports.sources',
  '    apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers',
  '  Debian 13 / Ubuntu 24.04:',
  '    apt-get install -y mesa-vulkan-drivers',
  'In a wgsl-dice checkout, `node scripts/install-lavapipe.mjs` does this for you.',
].join('\n');

/**
 * Creates a WebGPU device on the best adapter dawn.node finds, with the adapter's storage and
 * compute limits, `timestamp-query` / `subgroups` / `shader-f16` where offered, and uncaptured
 * errors collected (see {@link takeUncapturedErrors}) instead of only printed.
 *
 * Also defines the WebGPU globals (`GPUBufferUsage`, `GPUMapMode`, ...) that are missing.
 * End with `await device.queue.onSubmittedWorkDone(); device.destroy()`; the process then exits.
 *
 * @throws {WebGpuUnavailableError} when there is no adapter; the message says what to install.
 * @example
 * ```ts
 * import { requestNodeDevice, takeUncapturedErrors } from 'wgsl-dice/node';
 *
 * const device = await requestNodeDevice({ onUncapturedError: (e) => console.error(e.message) });
 * // ... record and submit work ...
 * await device.queue.onSubmittedWorkDone();
 * if (takeUncapturedErrors(device).length > 0) process.exitCode = 1;
 * device.destroy();
 * ```
 */
export async function requestNodeDevice(options: NodeDeviceOptions = {}): Promise<GPUDevice> {
  const flags = dawnFlagsWithDefaults(options.dawnFlags ?? []);
  const adapter = await requestAdapter(await pinnedGpu(flags), flags, options.powerPreference);

  const requiredLimits: Record<string, number> = {};
  for (const name of ADAPTER_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  Object.assign(requiredLimits, options.requiredLimits);

  const requiredFeatures = new Set<GPUFeatureName>(
    OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature)),
  );
  for (const feature of options.requiredFeatures ?? []) requiredFeatures.add(feature);

  const label = options.label ?? 'wgsl-dice node device';
  const device = await adapter.requestDevice({
    label,
    requiredFeatures: [...requiredFeatures],
    requiredLimits,
    defaultQueue: { label: `${label} queue` },
  });

  // The listener closes over the list, not the device, so the device can still be collected.
  const errors: GPUError[] = [];
  uncapturedErrors.set(device, errors);
  const onUncapturedError = options.onUncapturedError;
  device.addEventListener('uncapturederror', (event) => {
    // Without preventDefault dawn.node only prints the error and the caller never learns of it.
    event.preventDefault();
    errors.push(event.error);
    onUncapturedError?.(event.error);
  });
  return device;
}

/** Returns the uncaptured errors collected on `device` since the last call, and forgets them. */
export function takeUncapturedErrors(device: GPUDevice): GPUError[] {
  return uncapturedErrors.get(device)?.splice(0) ?? [];
}

/** Plain-string description of the adapter behind `device`, for logs and benchmark records. */
export function describeAdapter(device: GPUDevice): {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
} {
  const info = device.adapterInfo;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
}

/** True when `device` runs on a CPU implementation (lavapipe/llvmpipe, SwiftShader), where timings mean little. */
export function isSoftwareAdapter(device: GPUDevice): boolean {
  const info = device.adapterInfo;
  if (info.architecture === 'software' || info.isFallbackAdapter === true) return true;
  return /llvmpipe|lavapipe|swiftshader/i.test(`${info.vendor} ${info.device} ${info.description}`);
}

// dawn.node resolves null without a Vulkan driver, but rejects ("no suitable backends found")
// when flags such as `adapter=` or `backend=` match nothing; both mean the same to the caller.
async function requestAdapter(
  gpu: GPU,
  flags: string[],
  powerPreference: GPUPowerPreference | undefined,
): Promise<GPUAdapter> {
  let adapter: GPUAdapter | null;
  let reason = 'requestAdapter() returned null';
  try {
    adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
  } catch (error) {
    adapter = null;
    reason = `requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!adapter) {
    throw new WebGpuUnavailableError(`${INSTALL_HINT}\n(${reason}; dawn.node flags: ${flags.join(' ')})`);
  }
  return adapter;
}

/**
 * The dawn.node `GPU` object (what `navigator.gpu` is in a browser) that requestNodeDevice
 * uses, pinned for the life of the process. Hand it to other WebGPU code that wants
 * `navigator.gpu` (TensorFlow.js's WebGPU backend, say) so the process holds one instance.
 *
 * @throws {WebGpuUnavailableError} when the `webgpu` package is missing or does not load.
 * @example
 * globalThis.navigator = { gpu: await nodeGpu() } as Navigator;
 */
export function nodeGpu(dawnFlags: readonly string[] = []): Promise<GPU> {
  return pinnedGpu(dawnFlagsWithDefaults(dawnFlags));
}

/** The caller's flags plus unquantised timestamps, deduplicated and sorted (the pin key). */
function dawnFlagsWithDefaults(flags: readonly string[]): string[] {
  return [...new Set([TIMESTAMP_FLAG, ...flags])].sort();
}

async function pinnedGpu(flags: string[]): Promise<GPU> {
  const key = flags.join('\n');
  const pinned = gpuByFlags.get(key);
  if (pinned) return pinned;
  const { create, globals } = await loadWebGpu();
  // Another caller may have pinned one for these flags while this one awaited the import.
  let gpu = gpuByFlags.get(key);
  if (!gpu) {
    // Mesa warns on every start when XDG_RUNTIME_DIR is unset; any writable folder silences it.
    process.env.XDG_RUNTIME_DIR ??= tmpdir();
    installMissingGlobals(globals);
    gpu = create(flags);
    gpuByFlags.set(key, gpu);
  }
  return gpu;
}

// Library code uses GPUBufferUsage, GPUMapMode, GPUShaderStage... as globals, as in a browser.
// Names something else already defined are left alone.
function installMissingGlobals(globals: WebGpuModule['globals']): void {
  const scope = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(globals as Record<string, unknown>)) {
    if (!(name in scope)) scope[name] = value;
  }
}

/** The part of the TensorFlow.js module (`@tensorflow/tfjs` or `-core`) {@link useTfjsWebGPU} calls. */
export interface TfjsBackendRegistry {
  findBackendFactory(name: string): unknown;
  removeBackend(name: string): void;
  registerBackend(name: string, factory: () => object, priority?: number): boolean;
  setBackend(name: string): Promise<boolean>;
  /**
   * tfjs's engine. One per process: `@tensorflow/tfjs` and `@tensorflow/tfjs-core` (even two
   * copies of it) share it, and with it their backends and tensors.
   */
  engine?(): object;
}

// Set-ups by tfjs engine, under a registry symbol so that a second copy of this module (src and
// dist loaded together) finds them too: a second device would destroy tfjs's tensors.
const TFJS_SET_UPS = Symbol.for('wgsl-dice.node.tfjsSetUps');
const setUpHolder = globalThis as typeof globalThis & { [TFJS_SET_UPS]?: WeakMap<object, Promise<GPUDevice>> };
const tfjsSetUps: WeakMap<object, Promise<GPUDevice>> = (setUpHolder[TFJS_SET_UPS] ??= new WeakMap());

const TFJS_INSTALL = 'npm install @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu';

/**
 * Makes TensorFlow.js's `webgpu` backend run on this process's pinned dawn.node device and
 * selects it, so `wgsl-dice/tfjs` losses and tfjs share one GPUDevice. Needs
 * `@tensorflow/tfjs-backend-webgpu` installed; resolves to the device.
 *
 * Call it as often as you like, with `@tensorflow/tfjs` or `@tensorflow/tfjs-core`: tfjs has one
 * engine per process, and every later call reuses the device and backend of the first (and
 * selects 'webgpu' again), so tensors already on the GPU stay valid. A webgpu backend that tfjs
 * started itself (on a `navigator.gpu` of your own) is reused as it is. `options` only apply
 * to the first call.
 *
 * Browsers need none of this: `await tf.setBackend('webgpu')`.
 *
 * @throws {WebGpuUnavailableError} when `webgpu` or `@tensorflow/tfjs-backend-webgpu` is not
 *   installed (the message gives the npm command), or dawn.node finds no adapter.
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import { useTfjsWebGPU } from 'wgsl-dice/node';
 * await useTfjsWebGPU(tf);
 */
export function useTfjsWebGPU(tf: TfjsBackendRegistry, options: NodeDeviceOptions = {}): Promise<GPUDevice> {
  if (!isTfjsModule(tf)) {
    return Promise.reject(
      new WebGpuUnavailableError(
        "useTfjsWebGPU(tf) takes the TensorFlow.js module: `import * as tf from '@tensorflow/tfjs'` " +
          `(or '@tensorflow/tfjs-core'), then \`await useTfjsWebGPU(tf)\`; got ${tf === null ? 'null' : typeof tf}. ` +
          `Without TensorFlow.js installed: ${TFJS_INSTALL}`,
      ),
    );
  }
  const key = typeof tf.engine === 'function' ? tf.engine() : tf;
  const known = tfjsSetUps.get(key);
  if (known) return known.then(async (device) => (await selectWebGPU(tf), device));
  const setUp = registerTfjsWebGPU(tf, options);
  tfjsSetUps.set(key, setUp);
  // A failed set-up (a package to install) may be retried in the same process.
  setUp.catch(() => tfjsSetUps.get(key) === setUp && tfjsSetUps.delete(key));
  return setUp;
}

function isTfjsModule(tf: unknown): tf is TfjsBackendRegistry {
  const t = tf as Partial<Record<keyof TfjsBackendRegistry, unknown>> | null;
  return (
    (typeof t === 'object' || typeof t === 'function') &&
    t !== null &&
    ['findBackendFactory', 'removeBackend', 'registerBackend', 'setBackend'].every(
      (name) => typeof t[name as keyof TfjsBackendRegistry] === 'function',
    )
  );
}

/**
 * The device of tfjs's 'webgpu' backend when it is already initialised. Read from the engine's
 * registry of initialised backends: tf.findBackend() would initialise a registered factory.
 */
function initialisedWebGPU(tf: TfjsBackendRegistry): GPUDevice | undefined {
  const engine = typeof tf.engine === 'function' ? (tf.engine() as { registry?: Record<string, unknown> }) : undefined;
  const backend = engine?.registry?.webgpu as { device?: Partial<GPUDevice> } | undefined;
  const device = backend?.device;
  return device && typeof device.createBuffer === 'function' ? (device as GPUDevice) : undefined;
}

async function selectWebGPU(tf: TfjsBackendRegistry): Promise<void> {
  if (!(await tf.setBackend('webgpu'))) {
    throw new WebGpuUnavailableError('TensorFlow.js could not start its webgpu backend on the dawn.node device.');
  }
}

async function registerTfjsWebGPU(tf: TfjsBackendRegistry, options: NodeDeviceOptions): Promise<GPUDevice> {
  // A webgpu backend tfjs already runs (its own device, tensors on it): use it, never replace it.
  const running = initialisedWebGPU(tf);
  if (running) {
    await selectWebGPU(tf);
    return running;
  }
  // The package first: without it, no device is made for nothing.
  const { WebGPUBackend } = await loadTfjsBackendWebGPU();
  const device = await requestNodeDevice({ label: 'wgsl-dice tfjs device', ...options });
  // tfjs-backend-webgpu only checks that navigator.gpu exists. Node >= 21 has a read-only
  // navigator getter, which defineProperty replaces; the GPU object is the pinned one.
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (!scope.navigator?.gpu) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...scope.navigator, gpu: nodeGpu(options.dawnFlags) },
      configurable: true,
      writable: true,
    });
  }
  const backend = new WebGPUBackend(device, device.adapterInfo);
  // The package registers a 'webgpu' factory of its own (a device of its own) when it sees
  // navigator.gpu at import: replace it (not initialised, checked above, so no tensor is lost).
  // Its kernels stay registered under 'webgpu'.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend);
  await selectWebGPU(tf);
  return device;
}

type TfjsBackendWebGPUModule = typeof import('@tensorflow/tfjs-backend-webgpu');

/** `@tensorflow/tfjs-backend-webgpu`, or WebGpuUnavailableError naming the command that installs it. */
async function loadTfjsBackendWebGPU(): Promise<TfjsBackendWebGPUModule> {
  try {
    return await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (
      code === 'ERR_MODULE_NOT_FOUND' &&
      typeof message === 'string' &&
      message.includes('@tensorflow/tfjs-backend-webgpu')
    ) {
      throw new WebGpuUnavailableError(
        "useTfjsWebGPU needs TensorFlow.js's WebGPU backend, @tensorflow/tfjs-backend-webgpu (an optional peer " +
          'dependency of wgsl-dice), which is not installed. Install it next to TensorFlow.js:\n' +
          '  npm install @tensorflow/tfjs-backend-webgpu',
        { cause: error },
      );
    }
    throw error;
  }
}
