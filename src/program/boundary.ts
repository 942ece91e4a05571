import type { NormalizedLossOptions } from '../spec/family.js';
import type { DeviceProfile } from './profile.js';
import { scratchRef, tensorRef, type LossProgram } from './program.js';
import { singlePass, surfaceParamsFields } from './surface-grid.js';
import { fieldBackwardPass, fieldTermPasses, type FieldTerm } from './surface-loss.js';
import type { VoxelGrids } from './voxel.js';

/**
 * The family's `boundary` term (Kervadec et al.): the loss family's program with the target's
 * signed-distance passes and the boundary forward and finalize after its finalize (which adds
 * lambda * mean(p * phi) to the loss it wrote), and the boundary backward after its backward
 * (which adds lambda * phi / count, through the activation, to the gradient it wrote). The
 * family's kernels are untouched. The gradient then depends on the distance field of the last
 * forward, so the program has no gradientCoefficients (wgsl-dice/tfjs's saved-coefficient
 * gradient does not apply).
 */
export function withBoundaryTerm(
  program: LossProgram<VoxelGrids>,
  o: NormalizedLossOptions,
  profile: DeviceProfile,
): LossProgram<VoxelGrids> {
  const b = o.boundary;
  if (!b) return program;
  const term: FieldTerm = {
    geometry: b.geometry,
    activation: o.activation as FieldTerm['activation'],
    target: o.target,
    firstClass: b.firstClass,
    distance: b.distance,
    kind: 1,
    alpha: 0,
    prefix: 'boundary ',
  };
  const { plan, scratch, passes } = fieldTermPasses(term, profile, 'boundary');
  const count = b.geometry.batch * plan.kept * b.geometry.spatial;
  const finalize = singlePass(
    'boundary finalize',
    'field_finalize',
    surfaceParamsFields(plan, b.distance, {
      pairs: plan.pairs,
      chunks: plan.boxChunks,
      mode: 1,
      scalar0: b.lambda,
      scalar1: count,
    }),
    1,
    {
      partials: scratchRef('boundary partials'),
      coefs: scratchRef('boundary coefs'),
      values: scratchRef('boundary value'),
      loss: tensorRef('loss', 0, 4),
      status: scratchRef('status'),
    },
  );
  const after = program.passes.findIndex((p) => p.kernel === 'family_finalize') + 1;
  return {
    ...program,
    scratch: [
      ...program.scratch,
      ...scratch,
      { name: 'boundary coefs', bytes: 16 },
      { name: 'boundary value', bytes: 16, readable: true },
    ],
    passes: [
      ...program.passes.slice(0, after),
      ...passes,
      finalize,
      ...program.passes.slice(after),
      fieldBackwardPass(term, plan),
    ],
    readback: [...program.readback, 'boundary value'],
    gradientCoefficients: undefined,
  };
}
