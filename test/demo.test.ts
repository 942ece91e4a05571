// The demo as a user runs it: `node dist/demo.js` trains the per-pixel model on the GPU for a
// few epochs with each loss and must write its titled PNGs, a summary in which the validation
// Dice rose, and index.html linking every picture with a caption; the web demo (dist/demo-web.js) must load in Chromium and train a few epochs on
// navigator.gpu without a WebGPU error. The demo programs fail themselves on any WebGPU error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoRun } from '../demo/web/app.js';
import { COLOUR_BAR_HEIGHT, TITLE_HEIGHT } from '../demo/png.js';
import { launchChromium, type ChromiumSession } from './browser/chromium.js';
import { ensureBuilt } from './browser/dist.js';

const LOSSES = ['global', 'weighted', 'per-class', 'softmax'];

let demo: string;
let webServer: string;
let out: string;

beforeAll(async () => {
  [demo, webServer] = await ensureBuilt(['dist/demo.js', 'dist/demo-web.js', 'dist/index.js']);
  out = mkdtempSync(join(tmpdir(), 'wgsl-dice-demo-'));
});
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('node dist/demo.js', () => {
  interface Summary {
    variants: { id: string; diceBefore: number; diceAfter: number; epochs: { epoch: number; dice: number }[] }[];
  }
  let summary: Summary;
  let stdout: string;

  beforeAll(() => {
    const result = spawnSync(process.execPath, [demo, '--epochs', '3', '--images', '8', '--batch', '2', '--out', out], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (result.status !== 0) throw new Error(`demo exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
    stdout = result.stdout;
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  });

  it('prints loss and Dice for every epoch of every loss', () => {
    for (const loss of LOSSES) expect(stdout).toContain(`\n${loss}: `);
    expect(stdout.match(/epoch +3\/3 +train loss \d\.\d+ +val loss \d\.\d+ +val Dice \d\.\d+/g)).toHaveLength(4);
  });

  it.each(LOSSES)('%s: the validation Dice rose visibly', (loss) => {
    const variant = summary.variants.find((v) => v.id === loss)!;
    expect(variant.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(variant.diceAfter).toBeGreaterThan(variant.diceBefore + 0.1);
  });

  it.each(LOSSES)('%s: input, target, prediction and gradient PNGs and the loss curve', (loss) => {
    const size = (file: string) => {
      const path = join(out, loss, file);
      expect(existsSync(path), path).toBe(true);
      const png = PNG.sync.read(readFileSync(path));
      return [png.width, png.height];
    };
    // Every picture has its title above it and its colour scale (or a note) below it.
    const figure = [256, TITLE_HEIGHT + 256 + COLOUR_BAR_HEIGHT];
    for (const kind of ['input', 'target', 'prediction', 'gradient', 'gradient-logits']) {
      expect(size(`val-0-${kind}.png`), kind).toEqual(figure);
      expect(size(`val-1-${kind}.png`), kind).toEqual(figure);
    }
    expect(size('loss-curve.png')).toEqual([560, 360]);
  });

  it('the gradient colour bar runs from blue (-max) through white to red (+max)', () => {
    const png = PNG.sync.read(readFileSync(join(out, 'softmax', 'val-0-gradient-logits.png')));
    const pixel = (x: number, y: number) => [
      ...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3),
    ];
    const barY = TITLE_HEIGHT + 256 + 10;
    expect(pixel(8, barY)).toEqual([0, 0, 255]);
    expect(pixel(128, barY)).toEqual([255, 255, 255]);
    expect(pixel(248, barY)).toEqual([255, 0, 0]);
  });

  it('index.html shows every picture the run wrote, each linked and captioned, and links the summary', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const written = readdirSync(out, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.png') || f === 'summary.json')
      .map((f) => f.replaceAll('\\', '/'))
      .sort();
    const linked = [...new Set([...html.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]))].sort();
    expect(linked).toEqual(written);
    expect(written).toContain('val-dice.png');
    const figures = [...html.matchAll(/<figure[^>]*>([\s\S]*?)<\/figure>/g)].map((m) => m[1]);
    expect(figures).toHaveLength(written.length - 1);
    for (const body of figures) expect(body).toMatch(/<figcaption>[^<]{20,}<\/figcaption>/);
    // Each loss has its section, named.
    for (const loss of LOSSES) expect(html).toContain(`<section id="${loss}"><h2>`);
    expect(html).toMatch(/two values per class by construction/);
  });

  it('the prediction picture changed with training: not a blank image', () => {
    const png = PNG.sync.read(readFileSync(join(out, 'softmax', 'val-0-prediction.png')));
    const levels = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) levels.add(png.data[i]);
    expect(levels.size).toBeGreaterThan(10);
  });

  it('--help explains the options', () => {
    const result = spawnSync(process.execPath, [demo, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--epochs N');
  });
});

describe('web demo in Chromium', () => {
  let server: ChildProcess;
  let browser: ChromiumSession;
  let url: string;

  beforeAll(async () => {
    server = spawn(process.execPath, [webServer, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (match) resolve(match[1]);
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('exit', (code) => reject(new Error(`demo-web exited with ${code}:\n${output}`)));
      setTimeout(() => reject(new Error(`demo-web printed no address in 60 s:\n${output}`)), 60_000);
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  it('loads and trains three epochs with no WebGPU error; the Dice rises', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page
      .waitForFunction(() => window.wgslDiceDemo !== undefined, undefined, { timeout: 30_000 })
      .catch(() => {
        throw new Error(`the web demo did not load:\n${browser.log.join('\n')}`);
      });
    const run: DemoRun = await page
      .evaluate(() => window.wgslDiceDemo!.start({ loss: 'softmax', epochs: 3, images: 8, batch: 2, lr: 0.02 }))
      .catch((error: Error) => {
        throw new Error(`training in the page failed: ${error.message}\n${browser.log.join('\n')}`);
      });
    expect(run.gpuErrors).toEqual([]);
    expect(run.done).toBe(true);
    expect(run.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(run.epochs[3].dice).toBeGreaterThan(run.epochs[0].dice + 0.1);
    expect(await page.locator('#status').textContent()).toMatch(/^Done: softmax, 3 epochs\. Validation Dice/);
  });

  it('starts from the URL (?loss=softmax&…&autostart) and says when it is done', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}?loss=softmax&epochs=2&images=8&batch=2&autostart`);
    await page
      .waitForFunction(() => document.body.dataset.state !== undefined, undefined, { timeout: 120_000 })
      .catch(() => {
        throw new Error(`the demo did not finish from the URL:\n${browser.log.join('\n')}`);
      });
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    expect(await page.locator('#status').textContent()).toMatch(
      /^Done: softmax, 2 epochs\. Validation Dice \d\.\d{3} -> \d\.\d{3}/,
    );
    expect(await page.locator('select[name=loss]').inputValue()).toBe('softmax');
  });
});
