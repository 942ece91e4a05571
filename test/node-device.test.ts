// requestNodeDevice on the real adapter, checked against an independent look at that adapter
// (the probe child process), plus the test helpers every GPU test relies on.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTER_LIMITS,
  describeAdapter,
  isSoftwareAdapter,
  requestNodeDevice,
  takeUncapturedErrors,
  WebGpuUnavailableError,
} from '../src/node/index.js';
import {
  createBufferFrom,
  createEmptyBuffer,
  expectClose,
  getTestDevice,
  mulberry32,
  readBuffer,
  withValidation,
} from './helpers/gpu.js';
import { type AdapterSummary, probeAdapter } from './setup/ensure-webgpu.js';

const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;

let device: GPUDevice;
let adapter: AdapterSummary;

beforeAll(async () => {
  device = await getTestDevice();
  const probe = probeAdapter();
  if (!probe.adapter) throw new Error(`probe found no adapter: ${probe.diagnostics}`);
  adapter = probe.adapter;
});

// dawn.node raises uncaptured errors synchronously today; waiting and polling a little keeps
// the tests right if that ever becomes asynchronous.
async function collectUncaptured(target: GPUDevice): Promise<GPUError[]> {
  await target.queue.onSubmittedWorkDone();
  for (let attempt = 0; attempt < 50; attempt++) {
    const errors = takeUncapturedErrors(target);
    if (errors.length > 0) return errors;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return [];
}

function createInvalidBuffer(target: GPUDevice): void {
  // MAP_READ may only be combined with COPY_DST: a validation error, not an exception.
  target.createBuffer({
    label: 'invalid on purpose',
    size: 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE,
  });
}

describe('requestNodeDevice', () => {
  it('enables exactly the optional features the adapter offers', () => {
    for (const feature of OPTIONAL_FEATURES) {
      expect(device.features.has(feature), feature).toBe(adapter.features.includes(feature));
    }
  });

  it("raises the storage and compute limits to the adapter's", () => {
    for (const name of ADAPTER_LIMITS) {
      expect(device.limits[name], name).toBe(adapter.limits[name]);
    }
    expect(device.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
  });

  it('defines the WebGPU globals library code needs', () => {
    expect(typeof GPUBufferUsage.STORAGE).toBe('number');
    expect(typeof GPUMapMode.READ).toBe('number');
    expect(typeof GPUShaderStage.COMPUTE).toBe('number');
  });

  it('lets requiredLimits win, and reports uncaptured errors to onUncapturedError', async () => {
    const defaultMaxBufferSize = 256 * 1024 * 1024;
    const seen: GPUError[] = [];
    const second = await requestNodeDevice({
      label: 'second test device',
      requiredLimits: { maxBufferSize: defaultMaxBufferSize },
      onUncapturedError: (error) => seen.push(error),
    });
    try {
      expect(second.limits.maxBufferSize).toBe(defaultMaxBufferSize);
      createInvalidBuffer(second);
      const collected = await collectUncaptured(second);
      expect(collected).toHaveLength(1);
      expect(seen).toEqual(collected);
      expect(takeUncapturedErrors(device)).toEqual([]);
    } finally {
      await second.queue.onSubmittedWorkDone();
      second.destroy();
    }
  });

  it('throws WebGpuUnavailableError, naming what to install, when there is no adapter', async () => {
    const failure = requestNodeDevice({ dawnFlags: ['adapter=no-such-adapter-wgsl-dice'] });
    await expect(failure).rejects.toBeInstanceOf(WebGpuUnavailableError);
    const error = (await failure.catch((e: unknown) => e)) as WebGpuUnavailableError;
    expect(error.code).toBe('WEBGPU_UNAVAILABLE');
    expect(error.message).toContain('apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
    expect(error.message).toContain('apt-get install -y mesa-vulkan-drivers');
  });
});

describe('uncaptured errors', () => {
  it('are collected, not only printed, and cleared once taken', async () => {
    takeUncapturedErrors(device);
    createInvalidBuffer(device);
    const errors = await collectUncaptured(device);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(GPUValidationError);
    expect(errors[0].message).toMatch(/usage/i);
    expect(takeUncapturedErrors(device)).toEqual([]);
  });

  it('are an empty list for a device this module did not create', () => {
    expect(takeUncapturedErrors({} as GPUDevice)).toEqual([]);
  });
});

describe('withValidation', () => {
  it('rejects on a validation error inside it, and keeps it out of the uncaptured list', async () => {
    const layout = device.createBindGroupLayout({
      label: 'one storage buffer',
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }],
    });
    const uniformOnly = device.createBuffer({
      label: 'uniform-only',
      size: 16,
      usage: GPUBufferUsage.UNIFORM,
    });
    try {
      await expect(
        withValidation(device, () => {
          device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: uniformOnly } }] });
        }),
      ).rejects.toThrow(/validation error/);
      expect(takeUncapturedErrors(device)).toEqual([]);
    } finally {
      uniformOnly.destroy();
    }
  });

  it('rejects when an uncaptured error is pending from earlier work', async () => {
    createInvalidBuffer(device);
    await expect(withValidation(device, () => 1)).rejects.toThrow(/uncaptured GPUValidationError/);
  });

  it("rethrows the callback's own error and leaves the error-scope stack balanced", async () => {
    await expect(
      withValidation(device, () => {
        throw new Error('callback failed');
      }),
    ).rejects.toThrow('callback failed');
    await expect(device.popErrorScope()).rejects.toThrow();
  });

  it("returns the callback's value; buffers round-trip through the helpers", async () => {
    const floats = new Float32Array([1.5, -2, 3.25]);
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const result = await withValidation(device, async () => {
      const a = createBufferFrom(device, floats);
      const b = createBufferFrom(device, bytes);
      const empty = createEmptyBuffer(device, 6);
      try {
        expect(b.size).toBe(8);
        expect(empty.size).toBe(8);
        return {
          floats: new Float32Array(await readBuffer(device, a)),
          bytes: new Uint8Array(await readBuffer(device, b, 5)),
          empty: new Uint8Array(await readBuffer(device, empty)),
        };
      } finally {
        for (const buffer of [a, b, empty]) buffer.destroy();
      }
    });
    expect([...result.floats]).toEqual([...floats]);
    expect([...result.bytes]).toEqual([...bytes]);
    expect([...result.empty]).toEqual(new Array(8).fill(0));
  });
});

describe('describeAdapter / isSoftwareAdapter', () => {
  it('describe the adapter in plain strings', () => {
    const info = describeAdapter(device);
    for (const key of ['vendor', 'architecture', 'device', 'description'] as const) {
      expect(typeof info[key], key).toBe('string');
    }
    expect(info.description).toBe(adapter.description);
    expect(typeof isSoftwareAdapter(device)).toBe('boolean');
    if (/llvmpipe|lavapipe|swiftshader/i.test(info.description)) {
      expect(isSoftwareAdapter(device)).toBe(true);
    }
  });
});

describe('expectClose', () => {
  const tol = { atol: 1e-6, rtol: 1e-3 };

  it('passes within atol + rtol*|expected|, including equal infinities', () => {
    expect(() => expectClose([1000.9, 0, Infinity], [1000, 1e-7, Infinity], tol, 'close')).not.toThrow();
  });

  it('fails naming the worst index, values and bound', () => {
    expect(() => expectClose([1, 2.5, 3.01], [1, 2, 3], tol, 'loss')).toThrow(
      /loss: 2 of 3 elements.*worst at \[1\]: actual 2.5, expected 2,.*bound 0.002001/,
    );
  });

  it('never passes NaN, and fails on a length mismatch', () => {
    expect(() => expectClose([NaN], [NaN], tol, 'nan')).toThrow(/worst at \[0\]/);
    expect(() => expectClose([1, 2], [1], tol, 'len')).toThrow(/length 2, expected 1/);
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(values[0]);
  });
});
