/**
 * The value of every mode a kernel takes as a `u32` override, written once. Each table names its
 * override and the prefix of the WGSL constants that spell its values: `ACTIVATION` takes
 * `ACT_NONE`, `ACT_SIGMOID`, ... (`${prefix}_${KEY}`, the key upper-cased, `-` as `_`). The
 * planner (src/program/) passes `table.values[key]` as the override; test/unit/modes.test.ts reads
 * the constants back from every kernel that declares the override and holds the two side by side,
 * so a value cannot change on one side only.
 */
export interface ModeTable<Key extends string = string> {
  /** The `override` the value is passed as. */
  readonly override: string;
  /** The WGSL constants of the values are named `${prefix}_${KEY}`. */
  readonly prefix: string;
  readonly values: Readonly<Record<Key, number>>;
}

function modeTable<Key extends string>(
  override: string,
  prefix: string,
  values: Readonly<Record<Key, number>>,
): ModeTable<Key> {
  return { override, prefix, values };
}

/** The WGSL constant that spells `key` of `table` (`ACT_SOFTMAX`, `WEIGHTING_INVERSE_FREQUENCY`). */
export function modeConstantName(table: ModeTable, key: string): string {
  return `${table.prefix}_${key.toUpperCase().replace(/-/g, '_')}`;
}

/** What the voxel passes apply to pred (lib/family_modes.wgsl). */
export const ACTIVATION = modeTable('ACTIVATION', 'ACT', {
  none: 0,
  sigmoid: 1,
  softmax: 2,
  // One-hot of the first maximal logit, and p > threshold (metrics).
  argmax: 3,
  threshold: 4,
  tanh: 5,
});

/** The target: dense f32, or a label map of u8, u16 or u32 (lib/labels.wgsl). */
export const TARGET_KIND = modeTable('TARGET_KIND', 'TARGET', { dense: 0, u8: 1, u16: 2, u32: 3 });

/** How a voxel mask applies: weights after the activation, or scales the logits (MONAI's MaskedDiceLoss). */
export const MASK_MODE = modeTable('MASK_MODE', 'MASK', { none: 0, weight: 1, logits: 2 });

/** The cross-entropy term on the logits, whatever the activation. */
export const AUX_KIND = modeTable('AUX_KIND', 'AUX', { none: 0, 'softmax-ce': 1, 'binary-ce': 2 });

/** MONAI's focal term: sigmoid form, or softmax form over the focal classes. */
export const FOCAL_KIND = modeTable('FOCAL_KIND', 'FOCAL', { none: 0, sigmoid: 1, softmax: 2 });

/** How family_finalize.wgsl turns a score into a value: 1 - s, -log(max(s, log_eps)), -s. */
export const TRANSFORM = modeTable('TRANSFORM', 'TRANSFORM', { 'one-minus': 0, 'negative-log': 1, negative: 2 });

/** family_finalize.wgsl's class weights: fixed, Generalized Dice's three, or inverse frequency. */
export const CLASS_WEIGHTING = modeTable('CLASS_WEIGHTING', 'WEIGHTING', {
  fixed: 0,
  square: 1,
  simple: 2,
  uniform: 3,
  'inverse-frequency': 4,
});

/** Generalized Wasserstein Dice's class weights alpha (wasserstein_finalize.wgsl). */
export const WASSERSTEIN_WEIGHTING = modeTable('WEIGHTING', 'ALPHA', { default: 0, GDL: 1 });

/** Every table, for the check against the WGSL. */
export const MODE_TABLES: readonly ModeTable[] = [
  ACTIVATION,
  TARGET_KIND,
  MASK_MODE,
  AUX_KIND,
  FOCAL_KIND,
  TRANSFORM,
  CLASS_WEIGHTING,
  WASSERSTEIN_WEIGHTING,
];
