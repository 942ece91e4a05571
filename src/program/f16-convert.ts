import { packPerWindow } from '../kernels/uniforms.js';
import type { BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  perWindowPass,
  scratchRef,
  tensorRef,
  type BindingRef,
  type LossProgram,
  type PassGroup,
  type ProgramPass,
  type TensorName,
} from './program.js';
import { elementBytes, type VoxelElementTypes } from './voxel.js';

// f16 tensors for programs whose passes read and write f32 throughout (clDice's stencils, the
// distance-field losses): stageF16 makes predType 'f16' widen pred into an f32 copy of the
// loss's own before the first pass (f16_widen.wgsl), binds every pass to that copy where it
// bound pred, and with gradType 'f16' lets the passes write an f32 gradient copy that a last
// pass rounds into the caller's f16 tensor (f16_narrow.wgsl). Window by window, so any size runs.
// (The loss family and the classic losses read f16 natively: their kernels have f16 variants.)

/** Window starts are multiples of 128 elements: 256-byte offsets for f16 and f32 alike. */
const ALIGN = 128;

/** Flat windows over `elements`: at most one binding of the f32 side each, 128-element aligned starts. */
function conversionWindows(elements: number, profile: GridProfile): BindingWindow[] {
  const perWindow = Math.max(ALIGN, Math.floor(profile.maxBindingBytes / 4 / ALIGN) * ALIGN);
  const perWorkgroup = profile.workgroupSize * profile.minUnitsPerThread;
  const windows: BindingWindow[] = [];
  let linearBase = 0;
  for (let base = 0; base < elements; base += perWindow) {
    const count = Math.min(perWindow, elements - base);
    // Enough workgroups to fill the device, each with a few elements a thread (grid-stride).
    const workgroups = Math.max(
      1,
      Math.min(Math.ceil(count / perWorkgroup), profile.elementwiseWorkgroups, profile.maxWorkgroupsPerDimension),
    );
    windows.push({ linearBase, count: workgroups, elementBase: base, elementCount: count });
    linearBase += workgroups;
  }
  return windows;
}

const countFields = (w: BindingWindow) => [['count', 'u32', w.elementCount] as const];

/**
 * 'widen': the caller's f16 `tensor` into the loss's f32 `scratch` (before the passes that read
 * it); 'narrow': `scratch` rounded into the caller's f16 `tensor` (after the passes that write it).
 */
function conversionPass(
  direction: 'widen' | 'narrow',
  tensor: TensorName,
  scratch: string,
  windows: readonly BindingWindow[],
  group: PassGroup,
): ProgramPass {
  const widen = direction === 'widen';
  return perWindowPass(
    widen ? `${tensor} f16 -> f32` : `${tensor} f32 -> f16`,
    widen ? 'f16_widen' : 'f16_narrow',
    {},
    packPerWindow(windows, countFields),
    windows,
    (w) => ({
      half_values: tensorRef(tensor, w.elementBase * 2, elementBytes(w.elementCount, 'f16')),
      full_values: scratchRef(scratch, w.elementBase * 4, w.elementCount * 4),
    }),
    { group },
  );
}

/** The f32 copies of the loss's own that stand in for the caller's f16 tensors. */
const F16_STAGING = { pred: 'pred f32', grad: 'grad f32' } as const;

/**
 * `program` (planned for f32 pred and grad of `elements` values) taking f16 where `types` say:
 * the tensor shrinks to f16 (compute() takes its bits), the passes bind the f32 copy at the same
 * offsets, and the conversions run first (pred, with the forward) and last (grad, with the
 * backward). Unchanged for f32.
 */
export function stageF16<G>(
  program: LossProgram<G>,
  types: VoxelElementTypes,
  elements: number,
  profile: GridProfile,
): LossProgram<G> {
  const staged = new Map<TensorName, string>();
  if (types.predType === 'f16') staged.set('pred', F16_STAGING.pred);
  if (types.gradType === 'f16') staged.set('grad', F16_STAGING.grad);
  if (staged.size === 0) return program;
  const windows = conversionWindows(elements, profile);
  const rebind = (ref: BindingRef): BindingRef =>
    'tensor' in ref && staged.has(ref.tensor)
      ? { scratch: staged.get(ref.tensor)!, offset: ref.offset, size: ref.size }
      : ref;
  const passes = program.passes.map((pass) => ({
    ...pass,
    dispatches: pass.dispatches.map((d) => ({
      ...d,
      bindings: Object.fromEntries(Object.entries(d.bindings).map(([slot, ref]) => [slot, rebind(ref)])),
    })),
  }));
  return {
    ...program,
    tensors: program.tensors.map((t) =>
      staged.has(t.name)
        ? {
            ...t,
            bytes: elementBytes(elements, 'f16'),
            ...(t.host ? { host: { type: 'f16-bits' as const, elements } } : {}),
          }
        : t,
    ),
    scratch: [...program.scratch, ...[...staged.values()].map((name) => ({ name, bytes: elements * 4 }))],
    passes: [
      ...(staged.has('pred') ? [conversionPass('widen', 'pred', F16_STAGING.pred, windows, 'forward')] : []),
      ...passes,
      ...(staged.has('grad') ? [conversionPass('narrow', 'grad', F16_STAGING.grad, windows, 'backward')] : []),
    ],
  };
}
