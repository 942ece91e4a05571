import { it } from 'vitest';
import { DiceEngine, WgslDiceError } from '../src/index.js';
import { getTestDevice } from './helpers/gpu.js';

for (const when of ['sync', 'microtask', 'timeout0', 'after-1ms']) {
  for (const what of ['loss', 'engine']) {
  it(`${what} destroy while pending ${when}`, async () => {
    const device = await getTestDevice();
    const e = await DiceEngine.create(device);
    const l = await e.dice({ shape: [2, 64, 64, 4], reduce: 'per-class' });
    const n = 2 * 64 * 64 * 4;
    const p = l.compute(new Float32Array(n), new Float32Array(n), { grad: true });
    if (when === 'microtask') await Promise.resolve();
    if (when === 'timeout0') await new Promise((r) => setTimeout(r, 0));
    if (when === 'after-1ms') await new Promise((r) => setTimeout(r, 1));
    if (what === 'loss') l.destroy(); else e.destroy();
    const t = new Promise((_, rej) => setTimeout(() => rej(new Error('HANG')), 5000));
    try { await Promise.race([p, t]); console.log(what, when, 'pending resolved'); } catch (err) { console.log(what, when, 'pending rejected', (err as WgslDiceError).code, (err as Error).name, (err as Error).message.slice(0, 120)); }
  });
  }
}
