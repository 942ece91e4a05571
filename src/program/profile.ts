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
   * about 3 ms more process CPU than 16-64 for the seed and softmax backward passes, so 32
   * (four per lavapipe thread on an 8-core machine) rather than hundreds.
   */
  readonly elementwiseWorkgroups: number;
  /** An elementwise thread should handle at least this many vec4/scalar units. */
  readonly minUnitsPerThread: number;
  readonly maxWorkgroupsPerDimension: number;
  /** A software rasteriser (lavapipe, SwiftShader): its shader compiler is slow, its barriers dear. */
  readonly software?: boolean;
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
    software,
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
