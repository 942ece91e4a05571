import type { ClDiceOptions } from '../spec/cldice.js';
import type { LossOptions, MetricOptions } from '../spec/family.js';
import type { DistanceTransformOptions, HausdorffDTOptions, SurfaceMetricsOptions } from '../spec/surface.js';
import type { WassersteinDiceOptions } from '../spec/wasserstein.js';
import type { ClDiceLoss } from './cldice.js';
import type { FamilyLoss } from './family.js';
import type { DistanceTransform, HausdorffDTLoss, SurfaceMetrics } from './surface.js';
import type { WassersteinDiceLoss } from './wasserstein.js';

/**
 * What the presets make their losses with: `DiceEngine` implements it, and the presets depend
 * on this interface only, so they never import the engine (and a unit test builds them from a
 * stub).
 */
export interface LossFactory {
  loss(options: LossOptions): Promise<FamilyLoss>;
  loss(options: ClDiceOptions): Promise<ClDiceLoss>;
  loss(options: HausdorffDTOptions): Promise<HausdorffDTLoss>;
  metric(options: MetricOptions): Promise<FamilyLoss>;
  wassersteinDice(options: WassersteinDiceOptions): Promise<WassersteinDiceLoss>;
  distanceTransform(options: DistanceTransformOptions): Promise<DistanceTransform>;
  surfaceMetrics(options: SurfaceMetricsOptions): Promise<SurfaceMetrics>;
}
