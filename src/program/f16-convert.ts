import { packPerWindow } from '../kernels/uniforms.js';
import type { BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import { perWindowPass, scratchRef, tensorRef, type PassGroup, type ProgramPass, type TensorName } from './program.js';
import { elementBytes } from './voxel.js';

// Passes that carry a flat tensor between f16 and f32 (f16_widen.wgsl, f16_narrow.wgsl), for
// losses whose passes read and write f32 volumes throughout (clDice's stencils): predType 'f16'
// widens pred into an f32 scratch of the loss before the first pass that reads it, gradType
// 'f16' rounds the f32 gradient scratch into the caller's f16 tensor after the last pass that
// writes it. Window by window, so any size runs.

/** Window starts are multiples of 128 elements: 256-byte offsets for f16 and f32 alike. */
const ALIGN = 128;

/** Flat windows over `elements`: at most one binding of the f32 side each, 128-element aligned starts. */
export function conversionWindows(elements: number, profile: GridProfile): BindingWindow[] {
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
export function conversionPass(
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
