import type { DiceEngine, FamilyLoss } from '../index.js';
import type { Preset, PresetValue } from '../presets/index.js';
import { CliError, usageError } from './errors.js';
import type { NpyTensor } from './npy.js';

/** A checked `--preset library.Api --options JSON`. */
export interface PresetRequest {
  library: string;
  api: string;
  options: Record<string, unknown>;
}

export function parsePresetRequest(name: string, optionsJson: string | undefined): PresetRequest {
  const match = /^([a-z_]+)\.([A-Za-z_]+)$/.exec(name);
  if (!match) {
    throw usageError('eval', `--preset takes library.Api, e.g. monai.DiceLoss; got ${JSON.stringify(name)}.`);
  }
  let options: unknown = {};
  if (optionsJson !== undefined) {
    try {
      options = JSON.parse(optionsJson);
    } catch (error) {
      throw usageError('eval', `--options is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw usageError('eval', `--options must be a JSON object of ${name}'s keyword arguments, got ${optionsJson}.`);
    }
  }
  return { library: match[1], api: match[2], options: options as Record<string, unknown> };
}

/**
 * Runs a peer preset (engine.presets.<library>.<Api>) on .npy arrays laid out as that library
 * takes them: what the library returns, and with `withGrad` the gradient of its GPU loss.
 */
export async function runPreset(
  engine: DiceEngine,
  request: PresetRequest,
  pred: NpyTensor,
  target: NpyTensor,
  withGrad: boolean,
): Promise<{ value: PresetValue; grad?: Float32Array }> {
  const libraries = engine.presets as unknown as Record<string, Record<string, (options: object) => Preset>>;
  const library = libraries[request.library];
  if (!library) {
    throw new CliError(
      `--preset: no library "${request.library}"; choose one of ${Object.keys(libraries).join(', ')}.`,
    );
  }
  const factory = library[request.api];
  if (typeof factory !== 'function') {
    throw new CliError(
      `--preset: ${request.library} has no "${request.api}"; choose one of ${Object.keys(library).join(', ')}.`,
    );
  }
  const preset = factory(request.options);
  const extras = { inputShape: pred.shape, targetShape: target.shape };
  const value = await preset.evaluate(pred.data, target.data, extras);
  if (!withGrad) return { value };
  const loss: FamilyLoss = await preset.create(pred.shape, { targetShape: target.shape });
  try {
    const kind = loss.options.target;
    const targetData =
      kind === 'dense'
        ? Float32Array.from(target.data)
        : kind === 'u8'
          ? Uint8Array.from(target.data)
          : kind === 'u16'
            ? Uint16Array.from(target.data)
            : Uint32Array.from(target.data);
    const result = await loss.compute(Float32Array.from(pred.data), targetData, { grad: true });
    return { value, grad: result.grad };
  } finally {
    loss.destroy();
  }
}
