import type {
  ClDiceSpec,
  DistanceTransformSpec,
  FamilySpec,
  HausdorffDTSpec,
  LossSpec,
  SeedSpec,
  SurfaceMetricsSpec,
  WassersteinSpec,
} from '../spec/index.js';
import { planClDiceProgram, type ClDiceGrids } from './cldice.js';
import { planFamilyProgram } from './family.js';
import type { DeviceProfile } from './profile.js';
import type { LossProgram } from './program.js';
import { planSeedProgram, type SeedGrids } from './seed.js';
import { planDistanceTransformProgram } from './surface-distance.js';
import type { SurfaceLayoutPlan } from './surface-grid.js';
import { planHausdorffDTProgram } from './surface-loss.js';
import { planSurfaceMetricsProgram } from './surface-metrics.js';
import type { VoxelGrids } from './voxel.js';
import { planWassersteinProgram } from './wasserstein.js';

/**
 * The one planner, pure data in, pure data out: a spec for one device profile becomes the
 * program the runtime records. Each loss kind's mapping lives in its own module.
 */
export function planProgram(spec: SeedSpec, profile: DeviceProfile): LossProgram<SeedGrids>;
export function planProgram(spec: FamilySpec | WassersteinSpec, profile: DeviceProfile): LossProgram<VoxelGrids>;
export function planProgram(spec: ClDiceSpec, profile: DeviceProfile): LossProgram<ClDiceGrids>;
export function planProgram(
  spec: DistanceTransformSpec | SurfaceMetricsSpec | HausdorffDTSpec,
  profile: DeviceProfile,
): LossProgram<SurfaceLayoutPlan>;
export function planProgram(
  spec: LossSpec,
  profile: DeviceProfile,
): LossProgram<SeedGrids | VoxelGrids | ClDiceGrids | SurfaceLayoutPlan>;
export function planProgram(
  spec: LossSpec,
  profile: DeviceProfile,
): LossProgram<SeedGrids> | LossProgram<VoxelGrids> | LossProgram<ClDiceGrids> | LossProgram<SurfaceLayoutPlan> {
  switch (spec.kind) {
    case 'seed':
      return planSeedProgram(spec.options, profile);
    case 'family':
      return planFamilyProgram(spec.options, profile);
    case 'wasserstein':
      return planWassersteinProgram(spec.options, profile);
    case 'cldice':
      return planClDiceProgram(spec.options, profile);
    case 'distance-transform':
      return planDistanceTransformProgram(spec.options, profile);
    case 'surface-metrics':
      return planSurfaceMetricsProgram(spec.options, profile);
    case 'hausdorff-dt':
      return planHausdorffDTProgram(spec.options, profile);
  }
}
