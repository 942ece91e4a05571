// The values of the loss family's modes (included with `// #include "lib/family_modes.wgsl"`):
// the voxel passes' overrides (lib/family_voxel.wgsl) and family_finalize.wgsl's each take one of
// these. src/kernels/modes.ts holds the same tables for the planner; test/unit/modes.test.ts reads
// these constants back and compares, so the two sides cannot drift.

// ACTIVATION
const ACT_NONE: u32 = 0u;
const ACT_SIGMOID: u32 = 1u;
const ACT_SOFTMAX: u32 = 2u;
const ACT_ARGMAX: u32 = 3u;        // one-hot of the first maximal logit (metrics)
const ACT_THRESHOLD: u32 = 4u;     // p > threshold (metrics)
const ACT_TANH: u32 = 5u;          // MONAI other_act=torch.tanh
// MASK_MODE
const MASK_NONE: u32 = 0u;
const MASK_WEIGHT: u32 = 1u;       // weighs every term after the activation
const MASK_LOGITS: u32 = 2u;       // scales the logits and the target (MONAI's MaskedDiceLoss)
                                   // (a label map's label is scaled and truncated)
// AUX_KIND: the cross-entropy on the logits, whatever the activation
const AUX_NONE: u32 = 0u;
const AUX_SOFTMAX_CE: u32 = 1u;
const AUX_BINARY_CE: u32 = 2u;
// FOCAL_KIND
const FOCAL_NONE: u32 = 0u;
const FOCAL_SIGMOID: u32 = 1u;
const FOCAL_SOFTMAX: u32 = 2u;     // log-softmax over classes focal_first_class .. C - 1
// TRANSFORM: a group's value from its score
const TRANSFORM_ONE_MINUS: u32 = 0u;     // 1 - score
const TRANSFORM_NEGATIVE_LOG: u32 = 1u;  // -log(max(score, log_eps))
const TRANSFORM_NEGATIVE: u32 = 2u;      // -score
// CLASS_WEIGHTING: the class weights of the Dice term
const WEIGHTING_FIXED: u32 = 0u;              // the caller's (or none)
const WEIGHTING_SQUARE: u32 = 1u;             // Generalized Dice: 1 / volume^2
const WEIGHTING_SIMPLE: u32 = 2u;             // Generalized Dice: 1 / volume
const WEIGHTING_UNIFORM: u32 = 3u;            // Generalized Dice: 1
const WEIGHTING_INVERSE_FREQUENCY: u32 = 4u;  // 1 / max(batch volume, 1), normalised to sum 1
