import { CliError, usageError } from './errors.js';

/**
 * Extension point for peer presets: `wgsl-dice eval --preset monai.DiceLoss --options '{...}'`.
 *
 * The engine is growing `engine.presets.<library>.<Api>(options)` (src/presets): a Preset whose
 * `evaluate(pred, target)` takes the arrays laid out as that library takes them (channels-first
 * for the torch libraries) and whose `create(shape)` gives the GPU loss for a gradient. Once
 * that API is settled, this function resolves `name` there (library, then API) and `eval` runs
 * the preset instead of the seed losses: nothing else in the CLI has to change. Until then every
 * name is "not available yet"; the name and the options are still checked, so a typo is told
 * apart from a preset that is coming.
 */
export function resolvePreset(name: string, optionsJson: string | undefined): never {
  if (!/^[a-z_]+\.[A-Za-z_]+$/.test(name)) {
    throw usageError('eval', `--preset takes library.Api, e.g. monai.DiceLoss; got ${JSON.stringify(name)}.`);
  }
  if (optionsJson !== undefined) {
    let options: unknown;
    try {
      options = JSON.parse(optionsJson);
    } catch (error) {
      throw usageError('eval', `--options is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw usageError('eval', `--options must be a JSON object of ${name}'s keyword arguments, got ${optionsJson}.`);
    }
  }
  throw new CliError(
    `--preset ${name} is not available yet: peer presets (monai, smp, keras, nnunet) are coming to the ` +
      'CLI. Use --reduce, --weights and --epsilon for the seed losses meanwhile.',
  );
}
