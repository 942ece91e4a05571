import cldiceErode from '../../shaders/cldice_erode.wgsl';
import cldiceSkeleton from '../../shaders/cldice_skeleton.wgsl';
import cldiceSums from '../../shaders/cldice_sums.wgsl';
import cldiceFinalize from '../../shaders/cldice_finalize.wgsl';
import cldiceSkeletonBackward from '../../shaders/cldice_skeleton_backward.wgsl';
import cldiceDilateChoice from '../../shaders/cldice_dilate_choice.wgsl';
import cldiceDilateBackward from '../../shaders/cldice_dilate_backward.wgsl';
import cldiceErodeBackward from '../../shaders/cldice_erode_backward.wgsl';

/** The clDice kernels' sources by name (see src/kernels/cldice-kernels.ts for their pipelines). */
export const clDiceShaders = {
  cldice_erode: cldiceErode,
  cldice_skeleton: cldiceSkeleton,
  cldice_sums: cldiceSums,
  cldice_finalize: cldiceFinalize,
  cldice_skeleton_backward: cldiceSkeletonBackward,
  cldice_dilate_choice: cldiceDilateChoice,
  cldice_dilate_backward: cldiceDilateBackward,
  cldice_erode_backward: cldiceErodeBackward,
} as const;

export type ClDiceShaderName = keyof typeof clDiceShaders;
