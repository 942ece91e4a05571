// A seeded synthetic "polyp" data set: endoscopy-like RGB images (mucosa with low-frequency
// shading, vessels and noise) holding one to three polyp-like blobs (redder, domed ellipses with
// a specular highlight and a soft rim), each with its binary mask. Platform-neutral: the Node
// demo and the web demo generate the same images from the same seed.
import { mulberry32 } from '../src/reference/index.js';

export { mulberry32 };

/** Hand-made per-pixel features the model sees; model.ts and the WGSL files use this count. */
export const FEATURE_COUNT = 8;

export interface PolypDataset {
  readonly count: number;
  readonly size: number;
  /** RGB in [0, 1], [count, size, size, 3]. */
  readonly images: Float32Array;
  /** 1 inside a polyp, else 0, [count, size, size]. */
  readonly masks: Float32Array;
  /** Standardised features, [count, size, size, FEATURE_COUNT]. */
  readonly features: Float32Array;
}

export function makePolypDataset(count: number, size: number, seed: number): PolypDataset {
  const random = mulberry32(seed);
  const pixels = size * size;
  const images = new Float32Array(count * pixels * 3);
  const masks = new Float32Array(count * pixels);
  for (let n = 0; n < count; n++) {
    drawImage(
      random,
      size,
      images.subarray(n * pixels * 3, (n + 1) * pixels * 3),
      masks.subarray(n * pixels, (n + 1) * pixels),
    );
  }
  return { count, size, images, masks, features: computeFeatures(images, count, size) };
}

function drawImage(random: () => number, size: number, rgb: Float32Array, mask: Float32Array): void {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Low-frequency shading: a few random plane waves.
  const waves = Array.from({ length: 3 }, () => ({
    kx: (random() - 0.5) * 0.3,
    ky: (random() - 0.5) * 0.3,
    phase: random() * 6.3,
    amplitude: 0.04 + random() * 0.05,
  }));
  // Vessels: thin dark-red sinusoidal curves, the confusers for a redness detector.
  const vessels = Array.from({ length: 2 + Math.floor(random() * 3) }, () => ({
    y0: random() * size,
    slope: (random() - 0.5) * 1.2,
    amplitude: 2 + random() * 6,
    frequency: 0.05 + random() * 0.15,
    phase: random() * 6.3,
    transpose: random() < 0.5,
  }));
  const polyps = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
    const radius = size * (0.08 + random() * 0.14);
    return {
      cx: radius + random() * (size - 2 * radius),
      cy: radius + random() * (size - 2 * radius),
      rx: radius * (0.8 + random() * 0.4),
      ry: radius * (0.8 + random() * 0.4),
      angle: random() * Math.PI,
      tint: 0.85 + random() * 0.15,
    };
  });
  const base = [0.78 + gauss() * 0.03, 0.5 + gauss() * 0.03, 0.42 + gauss() * 0.03];
  const light = { x: size * (0.3 + random() * 0.4), y: size * (0.3 + random() * 0.4) };

  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      // Endoscope vignette: darker towards the corners.
      const r2 = ((x - size / 2) ** 2 + (y - size / 2) ** 2) / (size / 2) ** 2;
      const vignette = 1 - 0.35 * Math.min(1, r2 * 0.6);
      let shade = 1;
      for (const w of waves) shade += w.amplitude * Math.sin(w.kx * x + w.ky * y + w.phase);
      let color = base.map((c) => c * shade);
      for (const v of vessels) {
        const [u, t] = v.transpose ? [y, x] : [x, y];
        const centre = v.y0 + v.slope * u + v.amplitude * Math.sin(v.frequency * u + v.phase);
        const d = Math.abs(t - centre);
        if (d < 1.5) color = mix(color, [0.6, 0.22, 0.22], 0.55 * (1 - d / 1.5));
      }
      let inside = 0;
      for (const polyp of polyps) {
        const dx = x + 0.5 - polyp.cx;
        const dy = y + 0.5 - polyp.cy;
        const c = Math.cos(polyp.angle);
        const s = Math.sin(polyp.angle);
        const u = (dx * c + dy * s) / polyp.rx;
        const v = (-dx * s + dy * c) / polyp.ry;
        const rho = Math.sqrt(u * u + v * v);
        if (rho < 1) inside = 1;
        // A dome lit from one side, a soft darker rim, and a highlight.
        const blend = smoothstep(1.15, 0.85, rho);
        if (blend <= 0) continue;
        const dome = Math.sqrt(Math.max(0, 1 - rho * rho));
        const facing = 0.75 + 0.25 * dome + (0.1 * ((light.x - polyp.cx) * u + (light.y - polyp.cy) * v)) / size;
        const rim = 1 - 0.25 * smoothstep(0.7, 1, rho);
        let polypColor = [0.9 * polyp.tint, 0.34, 0.3].map((ch) => ch * facing * rim);
        const highlight = Math.exp(-((u + 0.35) ** 2 + (v + 0.35) ** 2) / 0.02);
        polypColor = mix(polypColor, [1, 0.95, 0.9], 0.8 * highlight);
        color = mix(color, polypColor, blend);
      }
      mask[p] = inside;
      for (let ch = 0; ch < 3; ch++) {
        rgb[p * 3 + ch] = clamp01(color[ch] * vignette + gauss() * 0.035);
      }
    }
  }
}

/**
 * Per pixel: R, G, B, redness (R - G), its mean over 5x5 and 11x11 windows, the luminance
 * spread over 5x5 (texture) and luminance minus its 11x11 mean (local contrast); each
 * standardised over the data set.
 */
function computeFeatures(images: Float32Array, count: number, size: number): Float32Array {
  const pixels = size * size;
  const features = new Float32Array(count * pixels * FEATURE_COUNT);
  for (let n = 0; n < count; n++) {
    const rgb = images.subarray(n * pixels * 3, (n + 1) * pixels * 3);
    const redness = new Float32Array(pixels);
    const luminance = new Float32Array(pixels);
    const luminanceSq = new Float32Array(pixels);
    for (let p = 0; p < pixels; p++) {
      redness[p] = rgb[p * 3] - rgb[p * 3 + 1];
      luminance[p] = 0.299 * rgb[p * 3] + 0.587 * rgb[p * 3 + 1] + 0.114 * rgb[p * 3 + 2];
      luminanceSq[p] = luminance[p] ** 2;
    }
    const red5 = boxMean(redness, size, 2);
    const red11 = boxMean(redness, size, 5);
    const lum5 = boxMean(luminance, size, 2);
    const lumSq5 = boxMean(luminanceSq, size, 2);
    const lum11 = boxMean(luminance, size, 5);
    for (let p = 0; p < pixels; p++) {
      const f = features.subarray((n * pixels + p) * FEATURE_COUNT, (n * pixels + p + 1) * FEATURE_COUNT);
      f[0] = rgb[p * 3];
      f[1] = rgb[p * 3 + 1];
      f[2] = rgb[p * 3 + 2];
      f[3] = redness[p];
      f[4] = red5[p];
      f[5] = red11[p];
      f[6] = Math.sqrt(Math.max(0, lumSq5[p] - lum5[p] ** 2));
      f[7] = luminance[p] - lum11[p];
    }
  }
  standardise(features, FEATURE_COUNT);
  return features;
}

/** Mean over a (2r+1)^2 window, clamped at the borders. */
function boxMean(values: Float32Array, size: number, r: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      let n = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(size - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(size - 1, x + r); xx++) {
          sum += values[yy * size + xx];
          n++;
        }
      }
      out[y * size + x] = sum / n;
    }
  }
  return out;
}

function standardise(data: Float32Array, width: number): void {
  const rows = data.length / width;
  for (let k = 0; k < width; k++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += data[i * width + k];
    mean /= rows;
    let variance = 0;
    for (let i = 0; i < rows; i++) variance += (data[i * width + k] - mean) ** 2;
    const scale = 1 / Math.sqrt(variance / rows + 1e-12);
    for (let i = 0; i < rows; i++) data[i * width + k] = (data[i * width + k] - mean) * scale;
  }
}

const mix = (a: number[], b: number[], t: number) => a.map((v, i) => v + (b[i] - v) * t);
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = clamp01((x - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
}
