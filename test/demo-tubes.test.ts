// The tubular demo as a user runs it: `node dist/demo-tubes.js` trains soft Dice and soft Dice +
// clDice side by side for a few epochs and must write the comparison picture (input, target, and
// each loss's predicted probability and soft skeleton), the curves and a summary in which both
// losses trained (the training loss fell after the shared warm-up). It fails itself on any WebGPU error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './browser/dist.js';

interface Summary {
  device: string;
  variants: { id: string; epochs: { epoch: number; trainLoss: number | null; dice: number; tsens: number }[] }[];
}

let out: string;
let stdout: string;
let summary: Summary;

beforeAll(async () => {
  const [demo] = await ensureBuilt(['dist/demo-tubes.js']);
  out = mkdtempSync(join(tmpdir(), 'wgsl-dice-tubes-'));
  const args = [demo, '--epochs', '4', '--warmup', '1', '--images', '16', '--batch', '4', '--size', '32', '--out', out];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0)
    throw new Error(`demo-tubes exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  stdout = result.stdout;
  summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
});
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

const pngSize = (path: string) => {
  const png = PNG.sync.read(readFileSync(path));
  return [png.width, png.height];
};

describe('node dist/demo-tubes.js', () => {
  it('trains both losses and prints every epoch', () => {
    expect(summary.variants.map((v) => v.id)).toEqual(['dice', 'cldice']);
    expect(stdout.match(/epoch +4\/4 +train loss \d\.\d+ +val Dice \d\.\d+ +val clDice loss \d\.\d+/g)).toHaveLength(2);
    for (const variant of summary.variants) {
      expect(variant.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4]);
      // Epoch 1 is the shared soft-Dice warm-up; from epoch 2 on each variant trains its own loss.
      expect(variant.epochs[4].trainLoss!).toBeLessThan(variant.epochs[2].trainLoss!);
    }
  });

  it('writes the side-by-side picture: 4 held-out rows, input, target and 2 x (prediction, skeleton)', () => {
    // Tiles of 32 px at scale 3 with 4-px gutters.
    expect(pngSize(join(out, 'comparison.png'))).toEqual([6 * (32 * 3 + 4) + 4, 4 * (32 * 3 + 4) + 4]);
    expect(existsSync(join(out, 'validation-curves.png'))).toBe(true);
    for (const id of ['dice', 'cldice']) {
      for (const kind of ['prediction', 'skeleton'])
        expect(pngSize(join(out, id, `val-0-${kind}.png`))).toEqual([128, 128]);
    }
  });
});
