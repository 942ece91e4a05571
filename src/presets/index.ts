// engine.presets: the peer libraries' Dice-family APIs, named and configured as each library names
// them, computed by the GPU engine. See src/presets/common.ts for the Preset interface.
//
// Every preset is wrapped here with the checks all of them share, made before any work: the
// `extras` of evaluate() and create() (own, known keys only, so a misspelt key is an error and not
// a silently default layout; a valid layout string of the input's rank) and create()'s shape.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import { describeValue, rejectUnknownKeys } from '../core/validate.js';
import {
  checkLayout,
  checkShape,
  type CreateExtras,
  type HostInput,
  type Options,
  type Preset,
  type PresetExtras,
} from './common.js';
import { createKerasPresets } from './keras.js';
import { createMonaiPresets } from './monai.js';
import { createNnunetPresets } from './nnunet.js';
import { createQsmPresets } from './qsm.js';
import { createSmpPresets } from './smp.js';

export type { CreateExtras, HostInput, Preset, PresetExtras, PresetValue } from './common.js';

const EVALUATE_EXTRAS = ['mask', 'layout', 'inputShape', 'targetShape', 'maskShape', 'targetDtype'];
const CREATE_EXTRAS = ['targetShape', 'maskShape', 'layout'];

export function createPresets(factory: LossFactory) {
  return {
    monai: checked(createMonaiPresets(factory)),
    smp: checked(createSmpPresets(factory)),
    keras: checked(createKerasPresets(factory)),
    qsm: checked(createQsmPresets(factory)),
    nnunet: checked(createNnunetPresets(factory)),
  };
}

/** engine.presets: one factory per peer API, by library. */
export type Presets = ReturnType<typeof createPresets>;

/** What every preset has in common (WassersteinPreset creates another kind of loss). */
interface CheckedPreset {
  readonly api: string;
  /** Extras keys evaluate() and create() take besides the shared ones (MONAI's surface metric classes: spacing). */
  readonly extraKeys?: readonly string[];
  evaluate: Preset['evaluate'];
  create(shape: readonly number[], extras?: CreateExtras): Promise<unknown>;
}
type Factories = Record<string, (options?: Options) => CheckedPreset>;

/** The same factories, each returning its preset with the shared argument checks in front. */
function checked<F extends Factories>(factories: F): F {
  const out: Factories = {};
  for (const [name, factory] of Object.entries(factories)) {
    out[name] = (options?: Options) => withChecks(factory(options));
  }
  return out as F;
}

function withChecks<P extends CheckedPreset>(preset: P): P {
  const { api } = preset;
  return {
    ...preset,
    async evaluate(pred: HostInput, target: HostInput, extras?: PresetExtras) {
      if (extras !== undefined && extras !== null) {
        rejectUnknownKeys(`${api} extras field`, extras, [...EVALUATE_EXTRAS, ...(preset.extraKeys ?? [])]);
        for (const key of ['inputShape', 'targetShape', 'maskShape'] as const) {
          if (extras[key] !== undefined && extras[key] !== null) checkShape(extras[key], `${api} extras.${key}`);
        }
        checkLayout(extras.layout, extras.inputShape?.length ?? nestedRank(pred), `${api} extras`);
      }
      return preset.evaluate(pred, target, extras);
    },
    async create(shape: readonly number[], extras?: CreateExtras) {
      checkShape(shape, `${api} create() shape`, 2);
      if (extras !== undefined) {
        if (typeof extras !== 'object' || extras === null) {
          throw new WgslDiceError(
            'INVALID_OPTION',
            `${api}: create() extras must be an object, got ${describeValue(extras)}.`,
          );
        }
        rejectUnknownKeys(`${api} create() extras field`, extras, [...CREATE_EXTRAS, ...(preset.extraKeys ?? [])]);
        if (extras.targetShape !== undefined) checkShape(extras.targetShape, `${api} extras.targetShape`);
        if (extras.maskShape !== undefined) checkShape(extras.maskShape, `${api} extras.maskShape`);
        checkLayout(extras.layout, shape.length, `${api} create() extras`);
      }
      return preset.create(shape, extras);
    },
  };
}

/** The rank of nested arrays (depth along the first elements); undefined for typed arrays. */
function nestedRank(x: HostInput): number | undefined {
  if (!Array.isArray(x)) return undefined;
  let rank = 0;
  for (let level: unknown = x; Array.isArray(level); level = level[0]) rank++;
  return rank;
}
