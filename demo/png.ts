// PNG output of the Node demo (pngjs): titled figures (an image with its title above and its
// colour scale below: RGB inputs, masks and probabilities in grey, signed gradients as a diverging
// heat-map) and line charts with a title, axes and a legend, drawn pixel by pixel with a 3x5
// bitmap font of our own.
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

type Rgb = readonly [number, number, number];

/** An RGBA raster; `set` ignores pixels outside it. */
class Raster {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.png = new PNG({ width, height });
    for (let i = 0; i < width * height; i++) this.png.data.set([...background, 255], i * 4);
  }
  set(x: number, y: number, [r, g, b]: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.png.data.set([r, g, b, 255], (y * this.width + x) * 4);
  }
  save(path: string): void {
    writeFileSync(path, PNG.sync.write(this.png));
  }
}

/** An image of `size` x `size` pixels, each drawn as a `scale` x `scale` block. */
function writePixels(path: string, size: number, scale: number, color: (pixel: number) => Rgb): void {
  const raster = new Raster(size * scale, size * scale);
  for (let y = 0; y < size * scale; y++) {
    for (let x = 0; x < size * scale; x++)
      raster.set(x, y, color(Math.floor(y / scale) * size + Math.floor(x / scale)));
  }
  raster.save(path);
}

const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);

/** Values in [0, 1] as grey levels (masks, probabilities). */
export function writeGrayPng(path: string, values: Float32Array, size: number, scale = 4): void {
  writePixels(path, size, scale, (p) => {
    const v = byte(values[p]);
    return [v, v, v];
  });
}

/** Grey tiles of `size` x `size` values in [0, 1], `rows[r][c]` at row r, column c, white gutters. */
export function writeGrayMosaic(
  path: string,
  rows: readonly (readonly Float32Array[])[],
  size: number,
  scale = 3,
): void {
  const gutter = 4;
  const tile = size * scale + gutter;
  const columns = Math.max(...rows.map((row) => row.length));
  const raster = new Raster(columns * tile + gutter, rows.length * tile + gutter);
  rows.forEach((row, r) =>
    row.forEach((values, c) => {
      for (let y = 0; y < size * scale; y++) {
        for (let x = 0; x < size * scale; x++) {
          const v = byte(values[Math.floor(y / scale) * size + Math.floor(x / scale)]);
          raster.set(gutter + c * tile + x, gutter + r * tile + y, [v, v, v]);
        }
      }
    }),
  );
  raster.save(path);
}

/** Diverging colour of t in [-1, 1]: blue below 0, white at 0, red above. */
function diverging(t: number): Rgb {
  const fade = byte(1 - Math.min(1, Math.abs(t)));
  return t < 0 ? [fade, fade, 255] : [255, fade, fade];
}

/** Height of the title band above a figure's image. */
export const TITLE_HEIGHT = 24;
/** Height of the colour bar and its scale under a figure's image. */
export const COLOUR_BAR_HEIGHT = 44;

/** What a figure's bottom band shows: a colour bar with labels at its ends and middle, or a note. */
type FigureScale = { colour: (t: number) => Rgb; labels: readonly [string, string, string] } | { note: string };

/**
 * An image of `size` x `size` values, each drawn as a `scale` x `scale` block, with its title
 * written above it and its colour scale (or a note on what its colours mean) below it.
 */
function writeFigure(
  path: string,
  title: string,
  size: number,
  colourOf: (pixel: number) => Rgb,
  legend: FigureScale,
  scale = 4,
): void {
  const side = size * scale;
  const raster = new Raster(side, TITLE_HEIGHT + side + COLOUR_BAR_HEIGHT);
  const ink: Rgb = [40, 40, 40];
  text(raster, fitted(title, side), 4, 7, ink);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++)
      raster.set(x, TITLE_HEIGHT + y, colourOf(Math.floor(y / scale) * size + Math.floor(x / scale)));
  }
  const barTop = TITLE_HEIGHT + side + 6;
  if ('note' in legend) {
    text(raster, fitted(legend.note, side), 4, barTop + 4, ink);
  } else {
    const [barLeft, barRight, barHeight] = [8, side - 8, 12];
    for (let x = barLeft; x <= barRight; x++) {
      const colour = legend.colour((x - barLeft) / (barRight - barLeft));
      for (let y = barTop; y < barTop + barHeight; y++) raster.set(x, y, colour);
    }
    legend.labels.forEach((label, i) => {
      const x = barLeft + ((barRight - barLeft) * i) / 2;
      line(raster, x, barTop + barHeight, x, barTop + barHeight + 3, ink, 1);
      const width = label.length * 8;
      text(raster, label, Math.min(side - width, Math.max(0, x - width / 2)), barTop + barHeight + 6, ink);
    });
  }
  raster.save(path);
}

/** `value` cut to what fits `width` pixels of the 8-pixel font. */
const fitted = (value: string, width: number) => value.slice(0, Math.floor((width - 4) / 8));

/** An RGB picture in [0, 1], [size, size, 3], titled. */
export function writeRgbFigure(path: string, title: string, rgb: Float32Array, size: number): void {
  writeFigure(path, title, size, (p) => [byte(rgb[p * 3]), byte(rgb[p * 3 + 1]), byte(rgb[p * 3 + 2])], {
    note: 'RGB, each channel 0 to 1',
  });
}

/** Values in [0, 1] (a mask, a probability) as grey levels, titled, with a 0-to-1 grey bar. */
export function writeProbabilityFigure(path: string, title: string, values: Float32Array, size: number): void {
  const grey = (t: number): Rgb => [byte(t), byte(t), byte(t)];
  writeFigure(path, title, size, (p) => grey(values[p]), { colour: grey, labels: ['0', '0.5', '1'] });
}

/**
 * Signed values as a diverging heat-map: blue where the value is negative (raising the input
 * there lowers the loss), red where positive, white at 0, scaled by the largest magnitude m. The
 * colour bar below runs from -m to +m with m written under it, so that two pictures with
 * different m are not read as the same gradient.
 */
export function writeHeatmapFigure(path: string, title: string, values: Float32Array, size: number): void {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  writeFigure(path, title, size, (p) => diverging(largest === 0 ? 0 : values[p] / largest), {
    colour: (t) => diverging(t * 2 - 1),
    labels: [`-${formatScale(largest)}`, '0', `+${formatScale(largest)}`],
  });
}

/** A scale value in at most 7 characters: 0.0123, 1.2e-5, 340. */
function formatScale(value: number): string {
  if (value === 0) return '0';
  return value >= 1e-3 && value < 1e4 ? String(Number(value.toPrecision(3))) : value.toExponential(1);
}

export interface Series {
  label: string;
  color: Rgb;
  /** y values in [0, 1] at x = 0, 1, 2, ... (NaN leaves a gap). */
  values: readonly number[];
}

/** What a chart says about itself: a title above it, its axes' labels, where its legend goes. */
export interface ChartLabels {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** 'middle' (right, at mid-height: a falling loss and a rising Dice leave room there) or 'bottom' (right). */
  legend?: 'middle' | 'bottom';
}

/** A line chart of series in [0, 1] against the epoch: title, axes, ticks, axis labels and a legend. */
export function writeLineChart(path: string, series: readonly Series[], labels: ChartLabels = {}): void {
  const { title = '', xLabel = 'epoch', yLabel = 'loss and Dice', legend = 'middle' } = labels;
  const width = 560;
  const height = 360;
  const left = 44;
  const right = 16;
  const top = 50;
  const bottom = 40;
  const raster = new Raster(width, height);
  const xMax = Math.max(1, ...series.map((s) => s.values.length - 1));
  const px = (x: number) => left + (x / xMax) * (width - left - right);
  const py = (y: number) => height - bottom - Math.min(1, Math.max(0, y)) * (height - top - bottom);
  const grid: Rgb = [225, 225, 225];
  const ink: Rgb = [40, 40, 40];

  text(raster, fitted(title, width), Math.max(4, (width - fitted(title, width).length * 8) / 2), 8, ink);
  for (let tick = 0; tick <= 5; tick++) {
    const y = py(tick / 5);
    line(raster, px(0), y, px(xMax), y, grid, 1);
    text(raster, (tick / 5).toFixed(1), left - 26, y - 5, ink);
  }
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let x = 0; x <= xMax; x += xStep) {
    line(raster, px(x), py(0), px(x), py(1), grid, 1);
    text(raster, String(x), px(x) - 3 * String(x).length, py(0) + 6, ink);
  }
  line(raster, px(0), py(0), px(xMax), py(0), ink, 1);
  line(raster, px(0), py(0), px(0), py(1), ink, 1);
  text(raster, xLabel, (left + width - right) / 2 - xLabel.length * 4, height - 16, ink);
  // The y-axis label sits above the axis, where the 3x5 font can write it horizontally.
  text(raster, yLabel, left - 26, top - 20, ink);

  for (const s of series) {
    for (let x = 1; x < s.values.length; x++) {
      const [a, b] = [s.values[x - 1], s.values[x]];
      if (Number.isFinite(a) && Number.isFinite(b)) line(raster, px(x - 1), py(a), px(x), py(b), s.color, 2);
    }
  }
  // The legend names every series, boxed in white so that lines under it do not cross its text.
  const longest = Math.max(...series.map((s) => s.label.length));
  const [boxWidth, boxHeight] = [28 + longest * 8 + 8, series.length * 16 + 6];
  const boxLeft = width - right - boxWidth - 4;
  const boxTop = legend === 'middle' ? py(0.62) - 3 : py(0) - boxHeight - 6;
  for (let y = boxTop; y < boxTop + boxHeight; y++) line(raster, boxLeft, y, boxLeft + boxWidth, y, [255, 255, 255], 1);
  series.forEach((s, i) => {
    const y = boxTop + 3 + i * 16;
    line(raster, boxLeft + 4, y + 5, boxLeft + 24, y + 5, s.color, 2);
    text(raster, s.label, boxLeft + 32, y, ink);
  });
  raster.save(path);
}

function line(raster: Raster, x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness: number): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  for (let i = 0; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    const y = y0 + ((y1 - y0) * i) / steps;
    for (let dx = 0; dx < thickness; dx++) for (let dy = 0; dy < thickness; dy++) raster.set(x + dx, y + dy, color);
  }
}

// 3x5 glyphs, one row per string, drawn at 2x; lower case is written as upper case.
const FONT: Record<string, string[]> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '001', '001', '001'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '.': ['000', '000', '000', '000', '010'],
  '-': ['000', '000', '111', '000', '000'],
  '+': ['000', '010', '111', '010', '000'],
  ' ': ['000', '000', '000', '000', '000'],
  A: ['111', '101', '111', '101', '101'],
  B: ['110', '101', '110', '101', '110'],
  C: ['111', '100', '100', '100', '111'],
  D: ['110', '101', '101', '101', '110'],
  E: ['111', '100', '111', '100', '111'],
  F: ['111', '100', '110', '100', '100'],
  G: ['111', '100', '101', '101', '111'],
  H: ['101', '101', '111', '101', '101'],
  I: ['111', '010', '010', '010', '111'],
  J: ['001', '001', '001', '101', '111'],
  K: ['101', '101', '110', '101', '101'],
  L: ['100', '100', '100', '100', '111'],
  M: ['101', '111', '111', '101', '101'],
  N: ['110', '101', '101', '101', '101'],
  O: ['111', '101', '101', '101', '111'],
  P: ['111', '101', '111', '100', '100'],
  Q: ['111', '101', '101', '111', '001'],
  R: ['110', '101', '110', '101', '101'],
  S: ['111', '100', '111', '001', '111'],
  T: ['111', '010', '010', '010', '010'],
  U: ['101', '101', '101', '101', '111'],
  V: ['101', '101', '101', '101', '010'],
  W: ['101', '101', '111', '111', '101'],
  X: ['101', '101', '010', '101', '101'],
  Y: ['101', '101', '010', '010', '010'],
  Z: ['111', '001', '010', '100', '111'],
  '(': ['010', '100', '100', '100', '010'],
  ')': ['010', '001', '001', '001', '010'],
  '[': ['110', '100', '100', '100', '110'],
  ']': ['011', '001', '001', '001', '011'],
  '/': ['001', '001', '010', '100', '100'],
  ':': ['000', '010', '000', '010', '000'],
  ',': ['000', '000', '000', '010', '100'],
  "'": ['010', '010', '000', '000', '000'],
  '=': ['000', '111', '000', '111', '000'],
  '>': ['100', '010', '001', '010', '100'],
  '<': ['001', '010', '100', '010', '001'],
  _: ['000', '000', '000', '000', '111'],
  '%': ['101', '001', '010', '100', '101'],
  '·': ['000', '000', '010', '000', '000'],
};

function text(raster: Raster, value: string, x: number, y: number, color: Rgb): void {
  [...value.toUpperCase()].forEach((char, i) => {
    const glyph = FONT[char] ?? FONT[' '];
    glyph.forEach((row, gy) => {
      [...row].forEach((bit, gx) => {
        if (bit !== '1') return;
        for (let d = 0; d < 4; d++) raster.set(x + i * 8 + gx * 2 + (d & 1), y + gy * 2 + (d >> 1), color);
      });
    });
  });
}
