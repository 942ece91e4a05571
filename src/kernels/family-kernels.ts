import backwardSource from '../../shaders/family_backward.wgsl';
import finalizeSource from '../../shaders/family_finalize.wgsl';
import reduceSource from '../../shaders/family_reduce.wgsl';
import voxelStatsSource from '../../shaders/family_voxel_stats.wgsl';
import type { NormalizedLossOptions } from '../family/options.js';
import type { ColumnGrid } from '../plan.js';

/**
 * The loss-family kernels: sources by name and the uniform blocks, packed field by field in
 * the order of the WGSL structs they mirror.
 */
export const familyShaders = {
  family_voxel_stats: voxelStatsSource,
  family_reduce: reduceSource,
  family_finalize: finalizeSource,
  family_backward: backwardSource,
} as const;

export type FamilyShaderName = keyof typeof familyShaders;

const ACTIVATION = { none: 0, sigmoid: 1, softmax: 2, argmax: 3, threshold: 4 } as const;
const TARGET = { dense: 0, u8: 1, u16: 2, u32: 3 } as const;
const MASK = { none: 0, weight: 1, logits: 2 } as const;
const VALUE = { 'one-minus': 0, 'negative-log': 1, negative: 2 } as const;
const GDL = { square: 1, simple: 2, uniform: 3 } as const;

/** 0 none, 1 softmax cross-entropy, 2 binary cross-entropy. */
export function auxKind(o: NormalizedLossOptions): number {
  if (!o.crossEntropy) return 0;
  return o.activation === 'softmax' ? 1 : 2;
}

/** Writes u32 and f32 fields into one uniform block, 16-byte padded. */
function pack(fields: readonly ['u' | 'f', number][]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.ceil((fields.length * 4) / 16) * 16);
  const view = new DataView(bytes);
  fields.forEach(([kind, value], i) => {
    if (kind === 'u') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return bytes;
}

/** Mirrors `VoxelParams` in family_voxel_stats.wgsl. */
export function packVoxelParams(o: NormalizedLossOptions, voxelsPerChunk: number): ArrayBuffer {
  return pack([
    ['u', o.batch * o.spatial], ['u', o.classes], ['u', o.spatial], ['u', +o.channelsFirst],
    ['u', voxelsPerChunk], ['u', 0], ['u', 0], ['u', 0],
  ]);
}

/** Mirrors `FamilyParams` in family_reduce.wgsl. */
export function packReduceParams(o: NormalizedLossOptions, grid: ColumnGrid): ArrayBuffer {
  return pack([
    ['u', grid.rows], ['u', grid.cols], ['u', grid.colsPerGroup], ['u', grid.lanes],
    ['u', grid.rowsPerChunk], ['u', grid.chunks], ['u', grid.treeStart], ['u', o.classes],
    ['u', o.spatial], ['u', +o.channelsFirst], ['u', ACTIVATION[o.activation]], ['u', TARGET[o.target]],
    ['u', o.ignoreIndex ?? 0], ['u', +(o.ignoreIndex !== undefined)], ['u', MASK[o.mask]], ['u', +o.maskPerSample],
    ['u', o.squared ? 2 : 1], ['u', auxKind(o)], ['f', o.threshold], ['u', 0],
  ]);
}

/** Mirrors `FinalizeParams` in family_finalize.wgsl. */
export function packFinalizeParams(o: NormalizedLossOptions, chunks: number, groups: number): ArrayBuffer {
  const weighting = o.gdlWeight ? GDL[o.gdlWeight] : o.inverseFrequency ? 4 : 0;
  return pack([
    ['u', o.batch], ['u', o.classes], ['u', chunks], ['u', +o.channelsFirst],
    ['u', +o.poolBatch], ['u', +o.poolClasses], ['u', groups], ['u', +o.softLabel],
    ['u', VALUE[o.value]], ['u', +o.emptyZero], ['u', weighting], ['u', auxKind(o)],
    ['f', o.score.numTp], ['f', o.score.denTp], ['f', o.score.denFp], ['f', o.score.denFn],
    ['f', o.smoothNumerator], ['f', o.smoothDenominator], ['f', o.denominatorMin], ['f', o.logEps],
    ['f', o.gamma], ['f', o.lambdaDice], ['f', o.crossEntropy?.lambda ?? 0], ['f', o.elements],
  ]);
}

/** Mirrors `BackwardParams` in family_backward.wgsl. */
export function packBackwardParams(o: NormalizedLossOptions, voxelsPerChunk: number): ArrayBuffer {
  return pack([
    ['u', o.batch * o.spatial], ['u', o.classes], ['u', o.spatial], ['u', +o.channelsFirst],
    ['u', ACTIVATION[o.activation]], ['u', TARGET[o.target]], ['u', o.ignoreIndex ?? 0], ['u', +(o.ignoreIndex !== undefined)],
    ['u', MASK[o.mask]], ['u', +o.maskPerSample], ['u', o.squared ? 2 : 1], ['u', voxelsPerChunk],
  ]);
}

/** Per class: (included, fixed group weight, cross-entropy weight, 0). */
export function packClassInfo(o: NormalizedLossOptions): Float32Array<ArrayBuffer> {
  const info = new Float32Array(o.classes * 4);
  for (let c = 0; c < o.classes; c++) {
    info[c * 4] = o.included[c] ? 1 : 0;
    info[c * 4 + 1] = c < o.groupWeights.length ? o.groupWeights[c] : 0;
    info[c * 4 + 2] = o.crossEntropy ? o.crossEntropy.weights[c] : 0;
  }
  return info;
}
