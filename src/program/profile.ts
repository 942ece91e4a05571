/**
 * What the planner needs to know about the adapter. Software rasterisers (lavapipe,
 * SwiftShader) pay for every workgroup with barriers, so they get a handful of fat workgroups;
 * real GPUs get enough to fill every core.
 */
export interface GridProfile {
  readonly workgroupSize: number;
  /** Largest storage binding a pass may use: the device limit, or a smaller test value. */
  readonly maxBindingBytes: number;
  readonly targetWorkgroups: number;
  /** A reduction lane should read at least this many rows before another workgroup is worth it. */
  readonly minRowsPerLane: number;
  /**
   * Workgroups an elementwise (barrier-free) pass aims for: more than a reduction. On software
   * adapters each workgroup still costs its start-up (every thread's loads of the per-sample
   * coefficients run as per-lane loops there): at 2x512x512x8 on lavapipe, 512 workgroups took
   * about 3 ms more process CPU than 16-64 for the classic losses' and the softmax backward passes, so 32
   * (four per lavapipe thread on an 8-core machine) rather than hundreds.
   */
  readonly elementwiseWorkgroups: number;
  /** An elementwise thread should handle at least this many vec4/scalar units. */
  readonly minUnitsPerThread: number;
  readonly maxWorkgroupsPerDimension: number;
  /**
   * The device's maxStorageBuffersPerShaderStage (WebGPU's default is 8; browsers give that
   * unless the app asks for more). Absent: no limit known (plans of unit tests).
   */
  readonly maxStorageBuffersPerStage?: number;
  /**
   * The device's maxBufferSize: a buffer may hold several binding windows (the surface metrics'
   * shared distance fields). Absent: maxBindingBytes.
   */
  readonly maxBufferBytes?: number;
  /** A software rasteriser (lavapipe, SwiftShader): its shader compiler is slow, its barriers dear. */
  readonly software?: boolean;
  /**
   * Elementwise passes share each chunk among several workgroups in a grid-stride loop, so
   * neighbouring workgroups read and write neighbouring addresses and the pass streams through
   * memory as one front, as a copy kernel does (GPUs); otherwise each workgroup walks a
   * contiguous chunk alone (software adapters, where a thread's cache wants its own run).
   * Absent: false.
   */
  readonly interleave?: boolean;
  /**
   * Classes a voxel pass keeps per thread (its class block), for planners that size class
   * blocks; absent: CLASS_BLOCK (src/core/limits.ts).
   */
  readonly classBlock?: number;
}

/**
 * Which plans the engine makes: for a GPU (many workgroups, unrolled class loops) or for a
 * software adapter (few fat workgroups, fast compiles). Both run correctly anywhere.
 */
export type DeviceClass = 'gpu' | 'software';

export function gridProfileFor(
  device: GPUDevice,
  overrides: {
    workgroupSize?: number;
    targetWorkgroups?: number;
    maxBindingBytes?: number;
    deviceClass?: DeviceClass;
  } = {},
): GridProfile {
  const software =
    overrides.deviceClass === undefined ? isSoftwareDevice(device) : overrides.deviceClass === 'software';
  const workgroupSize = overrides.workgroupSize ?? Math.min(256, device.limits.maxComputeInvocationsPerWorkgroup);
  return {
    workgroupSize,
    maxBindingBytes: overrides.maxBindingBytes ?? device.limits.maxStorageBufferBindingSize,
    targetWorkgroups: overrides.targetWorkgroups ?? (software ? 8 : 1024),
    minRowsPerLane: software ? 64 : 4,
    elementwiseWorkgroups: software ? 32 : 4096,
    minUnitsPerThread: 4,
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerStage: device.limits.maxStorageBuffersPerShaderStage,
    maxBufferBytes: device.limits.maxBufferSize,
    software,
    interleave: !software,
  };
}

function isSoftwareDevice(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return false;
  const text = `${info.architecture} ${info.description} ${info.device} ${info.vendor}`;
  return info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(text);
}

/** What the planner needs of a device: grid sizes and limits, and the subgroup size if subgroups may be used. */
export interface DeviceProfile extends GridProfile {
  readonly subgroupSize?: number;
}

/**
 * The knobs a plan is made with, each optional (absent: the device class's default): what
 * `engine.tune()` times and `DiceEngine.create(device, { tuning })` ships. Every choice the
 * engine accepts gives a valid plan whose results are bitwise repeatable; two choices may add
 * in different orders, so their results agree within f32 rounding, not bit for bit.
 */
export interface PlanChoice {
  /** Threads per workgroup of every pass (a power of two). */
  readonly workgroupSize?: number;
  /** Workgroups a reduction aims for. */
  readonly targetWorkgroups?: number;
  /** Workgroups an elementwise pass aims for. */
  readonly elementwiseWorkgroups?: number;
  /** Elementwise workgroups interleaved in a grid-stride loop, or each on its own chunk. */
  readonly interleave?: boolean;
  /** The subgroup reduction where the device has subgroups (false: workgroup-memory trees). */
  readonly subgroups?: boolean;
  /** Classes a voxel pass keeps per thread. */
  readonly classBlock?: number;
}

/** The knobs of a {@link PlanChoice}, in the order describe() and the tuning JSON name them. */
export const PLAN_KNOBS = [
  'workgroupSize',
  'targetWorkgroups',
  'elementwiseWorkgroups',
  'interleave',
  'subgroups',
  'classBlock',
] as const satisfies readonly (keyof PlanChoice)[];

/**
 * The profile a choice plans with. `subgroupSize` is the device's smallest subgroup where it
 * has the `subgroups` feature (what `subgroups: true` turns on).
 */
export function profileWithChoice(
  profile: DeviceProfile,
  choice: PlanChoice,
  subgroupSize: number | undefined,
): DeviceProfile {
  const subgroups = choice.subgroups ?? profile.subgroupSize !== undefined;
  return {
    ...profile,
    ...(choice.workgroupSize !== undefined && { workgroupSize: choice.workgroupSize }),
    ...(choice.targetWorkgroups !== undefined && { targetWorkgroups: choice.targetWorkgroups }),
    ...(choice.elementwiseWorkgroups !== undefined && { elementwiseWorkgroups: choice.elementwiseWorkgroups }),
    ...(choice.interleave !== undefined && { interleave: choice.interleave }),
    ...(choice.classBlock !== undefined && { classBlock: choice.classBlock }),
    subgroupSize: subgroups ? subgroupSize : undefined,
  };
}

/** `workgroupSize=128 interleave=false`: the knobs a choice sets, for describe() and messages. */
export function describeChoice(choice: PlanChoice): string {
  const set = PLAN_KNOBS.filter((k) => choice[k] !== undefined).map((k) => `${k}=${String(choice[k])}`);
  return set.length > 0 ? set.join(' ') : 'the defaults';
}
