/**
 * TensorFlow.js's core, loaded once when `wgsl-dice/tfjs` is imported. A dynamic import (awaited
 * at the top level of this module) rather than a static one, so that an application without
 * TensorFlow.js installed gets {@link TfjsUnavailableError} saying what to install instead of
 * the module loader's bare ERR_MODULE_NOT_FOUND. Every value of tfjs-core the entry uses comes
 * from here; types are imported from '@tensorflow/tfjs-core' directly (erased at build).
 */
import type * as TfjsCore from '@tensorflow/tfjs-core';

/**
 * Thrown while importing `wgsl-dice/tfjs` when `@tensorflow/tfjs-core` cannot be loaded (not
 * installed next to wgsl-dice). Its `code` is `'TFJS_UNAVAILABLE'`; the message names the
 * packages to install.
 */
export class TfjsUnavailableError extends Error {
  readonly code = 'TFJS_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TfjsUnavailableError';
  }
}

const INSTALL_HINT =
  'wgsl-dice/tfjs needs TensorFlow.js (@tensorflow/tfjs-core, an optional peer dependency), which is not installed. ' +
  'Install TensorFlow.js and its WebGPU backend next to wgsl-dice:\n' +
  '  npm install @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu';

async function loadTfjsCore(): Promise<typeof TfjsCore> {
  try {
    return await import('@tensorflow/tfjs-core');
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes('@tensorflow/tfjs-core')) ||
      // Browsers: a bare specifier no import map resolves.
      (error instanceof TypeError && typeof message === 'string' && /@tensorflow\/tfjs-core/.test(message));
    if (missing) throw new TfjsUnavailableError(INSTALL_HINT, { cause: error });
    throw error;
  }
}

/** The application's tfjs-core (one instance, shared with its `@tensorflow/tfjs`). */
export const tf: typeof TfjsCore = await loadTfjsCore();
