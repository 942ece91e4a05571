/**
 * `wgsl-dice/reference`: float64 CPU implementations of every loss wgsl-dice computes, with
 * analytic gradients, for checking results on any GPU.
 */
export { diceReference, type DiceReferenceOptions, type DiceReferenceResult } from './dice.js';
export { mulberry32 } from './random.js';
export { familyReference, familyReferenceGradient, type FamilyReferenceResult } from './family.js';
export {
  evaluatePeerCase,
  peerReference,
  type Nested,
  type NestedArray,
  type Options as PeerOptions,
  type OptionValue as PeerOptionValue,
  type PeerCase,
  type PeerExtras,
  type PeerFn,
  type PeerValue,
  type Tensor,
} from './peers/index.js';
export { clDiceReference, softSkeleton, type ClDiceReferenceOptions, type ClDiceReferenceResult } from './cldice.js';
export * from './surface/index.js';
