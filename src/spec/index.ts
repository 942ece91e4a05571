import type { NormalizedClDiceOptions } from './cldice.js';
import type { NormalizedLossOptions } from './family.js';
import type { NormalizedDiceOptions } from './seed.js';
import type { NormalizedDistanceTransform, NormalizedHausdorffDT, NormalizedSurfaceMetrics } from './surface.js';
import type { NormalizedWassersteinOptions } from './wasserstein.js';

export type SeedSpec = { readonly kind: 'seed'; readonly options: NormalizedDiceOptions };
export type FamilySpec = { readonly kind: 'family'; readonly options: NormalizedLossOptions };
export type WassersteinSpec = { readonly kind: 'wasserstein'; readonly options: NormalizedWassersteinOptions };
export type ClDiceSpec = { readonly kind: 'cldice'; readonly options: NormalizedClDiceOptions };
export type DistanceTransformSpec = {
  readonly kind: 'distance-transform';
  readonly options: NormalizedDistanceTransform;
};
export type SurfaceMetricsSpec = { readonly kind: 'surface-metrics'; readonly options: NormalizedSurfaceMetrics };
export type HausdorffDTSpec = { readonly kind: 'hausdorff-dt'; readonly options: NormalizedHausdorffDT };

/**
 * Every loss as one discriminated spec: the entry points (engine.dice, engine.loss,
 * engine.metric, engine.wassersteinDice and the presets built on them) normalise their options
 * into one of these, and the planner (src/program/planner.ts) turns it into a program.
 */
export type LossSpec =
  SeedSpec | FamilySpec | WassersteinSpec | ClDiceSpec | DistanceTransformSpec | SurfaceMetricsSpec | HausdorffDTSpec;

/** The specs whose plans engine.tune() can choose among (the others have one plan per device class). */
export type TunableSpec = SeedSpec | FamilySpec | WassersteinSpec;
