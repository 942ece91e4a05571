/**
 * `wgsl-dice/reference`: float64 CPU implementations of every loss wgsl-dice computes, with
 * analytic gradients, for checking results on any GPU.
 */
export { diceReference, type DiceReferenceOptions, type DiceReferenceResult } from './dice.js';
export { familyReference, familyReferenceGradient, type FamilyReferenceResult } from './family.js';
export { peerReference, evaluatePeerCase } from './peers/index.js';
