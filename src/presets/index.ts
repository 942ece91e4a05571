// engine.presets: the peer libraries' Dice-family APIs, named and configured as each library names
// them, computed by the GPU engine. See src/presets/common.ts for the Preset interface.

import type { DiceEngine } from '../engine.js';
import { createKerasPresets } from './keras.js';
import { createMonaiPresets } from './monai.js';
import { createNnunetPresets } from './nnunet.js';
import { createQsmPresets } from './qsm.js';
import { createSmpPresets } from './smp.js';

export type { CreateExtras, HostInput, Preset, PresetExtras, PresetValue } from './common.js';

export function createPresets(engine: DiceEngine) {
  return {
    monai: createMonaiPresets(engine),
    smp: createSmpPresets(engine),
    keras: createKerasPresets(engine),
    qsm: createQsmPresets(engine),
    nnunet: createNnunetPresets(engine),
  };
}

/** engine.presets: one factory per peer API, by library. */
export type Presets = ReturnType<typeof createPresets>;
