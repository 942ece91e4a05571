import type { DiceLossOptions } from '../index.js';
import { CliError } from './errors.js';

/**
 * A peer library's loss expressed in wgsl-dice's terms, selected with
 * `wgsl-dice eval --preset <name> --options '<json>'`: the peer's constructor options (its own
 * names, as JSON) and pred's shape map to the engine's options.
 *
 * Extension point: a preset added to {@link PRESETS} becomes available to `eval` with no other
 * change. None is registered yet; the float64 references they will be checked against live in
 * src/reference/peers.
 */
export interface LossPreset {
  readonly name: string;
  readonly summary: string;
  toDiceOptions(peerOptions: Record<string, unknown>, shape: readonly number[]): DiceLossOptions;
}

const PRESETS: ReadonlyMap<string, LossPreset> = new Map();

/** Peer losses planned as presets, named in the "not available yet" error. */
const PLANNED = ['monai.DiceLoss', 'monai.GeneralizedDiceLoss', 'smp.DiceLoss', 'keras.Dice', 'nnunet.SoftDiceLoss'];

export function resolvePreset(name: string, optionsJson: string | undefined, shape: readonly number[]): DiceLossOptions {
  const preset = PRESETS.get(name);
  if (!preset) {
    throw new CliError(
      `--preset ${name} is not available yet: peer presets (${PLANNED.join(', ')}) are planned. ` +
        'Use --reduce, --weights and --epsilon for the seed losses meanwhile.',
    );
  }
  let options: unknown = {};
  if (optionsJson !== undefined) {
    try {
      options = JSON.parse(optionsJson);
    } catch (error) {
      throw new CliError(`--options is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CliError(`--options must be a JSON object of ${name}'s options, got ${optionsJson}.`);
  }
  return preset.toDiceOptions(options as Record<string, unknown>, shape);
}
