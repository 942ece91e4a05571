// engine.presets: the peer libraries' Dice-family APIs, named and configured as each library names
// them, computed by the GPU engine. See src/presets/common.ts for the Preset interface.
//
// Every preset is wrapped here with the checks all of them share, made before any work: the
// `extras` of evaluate() and create() (own, known keys only, so a misspelt key is an error and not
// a silently default layout; a valid layout string of the input's rank) and create()'s shape.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import { describeValue, rejectUnknownKeys, snapshotOptions } from '../core/validate.js';
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
    monai: checked(createMonaiPresets(factory), () => 'channel-first'),
    // smp's soft_*_score functions reduce `dims` and know no channel axis.
    smp: checked(createSmpPresets(factory), (name) => (name.startsWith('soft_') ? 'rank' : 'channel-first')),
    // Keras reduces `axis`; a layout is only checked against the input's rank.
    keras: checked(createKerasPresets(factory), () => 'rank'),
    qsm: checked(createQsmPresets(factory), () => 'channels'),
    nnunet: checked(createNnunetPresets(factory), () => 'channel-first'),
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

/**
 * What an API makes of a layout: 'rank', nothing but a check against the input's rank (it knows
 * no channel axis); 'channels', where its channel axis is (the layout must name C); 'channel-first',
 * the same for the torch libraries, whose create() plans channel-first shapes: a shape given in a
 * channels-last layout ("NHWC") is turned channel-first here and planned with the engine's
 * channels-last layout by the preset (see storedIn).
 */
type LayoutUse = 'rank' | 'channels' | 'channel-first';

/** The same factories, each returning its preset with the shared argument checks in front. */
function checked<F extends Factories>(factories: F, layoutUse: (name: string) => LayoutUse): F {
  const out: Factories = {};
  for (const [name, factory] of Object.entries(factories)) {
    out[name] = (options?: Options) => withChecks(factory(options), layoutUse(name));
  }
  return out as F;
}

function withChecks<P extends CheckedPreset>(preset: P, layoutUse: LayoutUse): P {
  const { api } = preset;
  const needsChannel = layoutUse !== 'rank';
  return {
    ...preset,
    async evaluate(pred: HostInput, target: HostInput, given?: PresetExtras) {
      // The extras are read once (the mask, which is data, is read once by the preset).
      const extras = snapshotExtras(given);
      if (extras !== undefined && extras !== null) {
        rejectUnknownKeys(`${api} extras field`, extras, [...EVALUATE_EXTRAS, ...(preset.extraKeys ?? [])]);
        for (const key of ['inputShape', 'targetShape', 'maskShape'] as const) {
          if (extras[key] !== undefined && extras[key] !== null) checkShape(extras[key], `${api} extras.${key}`);
        }
        checkLayout(extras.layout, extras.inputShape?.length ?? nestedRank(pred), `${api} extras`, needsChannel);
      }
      return preset.evaluate(pred, target, extras);
    },
    async create(givenShape: readonly number[], givenExtras?: CreateExtras) {
      // Read once (see snapshotOptions): checked and planned from these copies only.
      const shape = snapshotOptions(givenShape);
      const extras = snapshotOptions(givenExtras);
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
        checkLayout(extras.layout, shape.length, `${api} create() extras`, needsChannel);
        if (layoutUse === 'channel-first') return preset.create(...channelFirstShapes(api, shape, extras));
      }
      return preset.create(shape, extras);
    },
  };
}

/**
 * create()'s shapes moved channel-first for a torch preset, with the layout kept in the extras
 * for the engine options (storedIn): a channels-last layout ("NHWC") moves the last axis of the
 * input, and of a target or mask of its rank (`[B, H, W, 1]`), to axis 1. A layout with C
 * elsewhere is NOT_SUPPORTED: the kernels read C at axis 1 or last.
 */
function channelFirstShapes(api: string, shape: readonly number[], extras: CreateExtras): [number[], CreateExtras] {
  const { layout } = extras;
  const c = layout?.indexOf('C') ?? 1;
  if (c === 1 || c < 0) return [[...shape], extras]; // NCHW, or "flat"
  if (c !== shape.length - 1) {
    throw new WgslDiceError(
      'NOT_SUPPORTED',
      `${api}: create() with layout "${layout}": the GPU reads the channels at axis 1 (e.g. "NCHW") or last ` +
        '(e.g. "NHWC"); move C there, or use evaluate(), which transposes on the host.',
    );
  }
  const moved = (s: readonly number[]) => [s[0], s[s.length - 1], ...s.slice(1, -1)];
  const sameRank = (s?: readonly number[]) => (s !== undefined && s.length === shape.length ? moved(s) : s);
  const out: CreateExtras = { ...extras };
  if (extras.targetShape !== undefined) out.targetShape = sameRank(extras.targetShape);
  if (extras.maskShape !== undefined) out.maskShape = sameRank(extras.maskShape);
  return [moved(shape), out];
}

/** A snapshot of evaluate()'s extras, but for the mask: its data is read once where it is used. */
function snapshotExtras(extras: PresetExtras | undefined): PresetExtras | undefined {
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return extras;
  const { mask, ...rest } = extras;
  const copy = snapshotOptions(rest);
  return Object.hasOwn(extras, 'mask') ? { ...copy, mask } : copy;
}

/** The rank of nested arrays (depth along the first elements); undefined for typed arrays. */
function nestedRank(x: HostInput): number | undefined {
  if (!Array.isArray(x)) return undefined;
  let rank = 0;
  for (let level: unknown = x; Array.isArray(level); level = level[0]) rank++;
  return rank;
}
