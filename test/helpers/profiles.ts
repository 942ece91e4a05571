// Device profiles for planner tests that run without a GPU: what the engine's gridProfileFor
// makes of lavapipe on the development machine, and of a large discrete GPU.
import type { DeviceProfile } from '../../src/program/profile.js';

export const LAVAPIPE_PROFILE: DeviceProfile = {
  workgroupSize: 256,
  maxBindingBytes: 128 * 2 ** 20,
  targetWorkgroups: 8,
  minRowsPerLane: 64,
  elementwiseWorkgroups: 32,
  minUnitsPerThread: 4,
  maxWorkgroupsPerDimension: 65535,
  subgroupSize: 8,
  software: true,
};

export const GPU_PROFILE: DeviceProfile = {
  ...LAVAPIPE_PROFILE,
  maxBindingBytes: 2 ** 31 - 4,
  targetWorkgroups: 1024,
  minRowsPerLane: 4,
  elementwiseWorkgroups: 4096,
  subgroupSize: 32,
  software: false,
  interleave: true,
};
