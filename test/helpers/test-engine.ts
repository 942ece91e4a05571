// The set-up every GPU test file shares: the process's test device, a DiceEngine on it for the
// whole file (so the file compiles each pipeline once: a software adapter takes seconds per
// pipeline), and no GPU error left behind by any test.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { DiceEngine, type DiceEngineOptions } from '../../src/index.js';
import { getTestDevice, uncapturedErrorMessages } from './gpu.js';

/** What {@link useTestEngine} returns; reading either before the file's `beforeAll` has run throws. */
export interface TestEngine {
  readonly device: GPUDevice;
  readonly engine: DiceEngine;
}

/**
 * Registers the file's hooks: `beforeAll` gets the test device and creates a DiceEngine with
 * `options`; `afterEach` waits for the GPU and fails the test if any uncaptured GPU error was
 * raised during it (validation errors outside an error scope would otherwise only print);
 * `afterAll` destroys the engine. Call it at the top of a file (or a describe block), once per
 * engine configuration the file needs.
 */
export function useTestEngine(options: DiceEngineOptions = {}): TestEngine {
  let device: GPUDevice | undefined;
  let engine: DiceEngine | undefined;
  beforeAll(async () => {
    device = await getTestDevice();
    engine = await DiceEngine.create(device, options);
  });
  afterEach(async () => {
    if (!device) return; // beforeAll failed, and said why
    await device.queue.onSubmittedWorkDone();
    const messages = uncapturedErrorMessages(device);
    if (messages.length > 0) throw new Error(`GPU errors raised outside any error scope:\n${messages.join('\n')}`);
  });
  afterAll(() => engine?.destroy());
  return {
    get device() {
      if (!device) throw new Error('useTestEngine: the device is set in beforeAll; read it inside a test or hook');
      return device;
    },
    get engine() {
      if (!engine) throw new Error('useTestEngine: the engine is set in beforeAll; read it inside a test or hook');
      return engine;
    },
  };
}
