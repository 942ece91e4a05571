import { DiceEngine } from '../index.js';
import { requestNodeDevice, takeUncapturedErrors, WebGpuUnavailableError } from '../node/index.js';
import { CliError } from './errors.js';

/**
 * Runs `fn` with a WebGPU device and an engine on it, then waits for the GPU, frees both and
 * fails if WebGPU reported any error, even one no call was waiting on.
 */
export async function withEngine<T>(fn: (engine: DiceEngine, device: GPUDevice) => Promise<T>): Promise<T> {
  let device: GPUDevice;
  try {
    device = await requestNodeDevice({ label: 'wgsl-dice cli' });
  } catch (error) {
    if (error instanceof WebGpuUnavailableError) throw new CliError(error.message);
    throw error;
  }
  const engine = await DiceEngine.create(device, { label: 'wgsl-dice cli' });
  try {
    const result = await fn(engine, device);
    await device.queue.onSubmittedWorkDone();
    const errors = takeUncapturedErrors(device);
    if (errors.length > 0) {
      throw new CliError(`WebGPU reported errors:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    }
    return result;
  } finally {
    engine.destroy();
    await device.queue.onSubmittedWorkDone();
    device.destroy();
  }
}
