import type { ClDiceSpec, FamilySpec, LossSpec, SeedSpec, WassersteinSpec } from '../spec/index.js';
import { planClDiceProgram, type ClDiceGrids } from './cldice.js';
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
export function planProgram(spec: ClDiceSpec, profile: DeviceProfile): LossProgram<ClDiceGrids>;
export function planProgram(spec: LossSpec, profile: DeviceProfile): LossProgram<SeedGrids | VoxelGrids | ClDiceGrids>;
export function planProgram(
  spec: LossSpec,
  profile: DeviceProfile,
): LossProgram<SeedGrids> | LossProgram<VoxelGrids> | LossProgram<ClDiceGrids> {
  switch (spec.kind) {
    case 'seed':
      return planSeedProgram(spec.options, profile);
    case 'family':
      return planFamilyProgram(spec.options, profile);
    case 'wasserstein':
      return planWassersteinProgram(spec.options, profile);
    case 'cldice':
      return planClDiceProgram(spec.options, profile);
  }
}
