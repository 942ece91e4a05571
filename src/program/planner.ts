import type { FamilySpec, LossSpec, SeedSpec, WassersteinSpec } from '../spec/index.js';
import { planFamilyProgram } from './family.js';
import type { DeviceProfile } from './profile.js';
import type { LossProgram } from './program.js';
import { planSeedProgram, type SeedGrids } from './seed.js';
import type { VoxelGrids } from './voxel.js';
import { planWassersteinProgram } from './wasserstein.js';

/**
 * The one planner, pure data in, pure data out: a spec for one device profile becomes the
 * program the runtime records. Each loss kind's mapping lives in its own module.
 */
export function planProgram(spec: SeedSpec, profile: DeviceProfile): LossProgram<SeedGrids>;
export function planProgram(spec: FamilySpec | WassersteinSpec, profile: DeviceProfile): LossProgram<VoxelGrids>;
export function planProgram(spec: LossSpec, profile: DeviceProfile): LossProgram<SeedGrids | VoxelGrids>;
export function planProgram(spec: LossSpec, profile: DeviceProfile): LossProgram<SeedGrids> | LossProgram<VoxelGrids> {
  switch (spec.kind) {
    case 'seed':
      return planSeedProgram(spec.options, profile);
    case 'family':
      return planFamilyProgram(spec.options, profile);
    case 'wasserstein':
      return planWassersteinProgram(spec.options, profile);
  }
}
