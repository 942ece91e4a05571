/**
 * The bandwidth ceiling: copy.wgsl, out = a (read 1, write 1) or out = a + b (read 2, write 1),
 * over buffers of the loss's size, on the same device, timed the same way as wgsl-dice. Its best
 * GB/s at a shape is what `pct_of_copy` divides by.
 */
import copySource from './copy.wgsl';

export interface CopyVariant {
  readonly name: 'copy-1in' | 'copy-2in';
  readonly inputs: 1 | 2;
}

export const COPY_VARIANTS: readonly CopyVariant[] = [
  { name: 'copy-1in', inputs: 1 },
  { name: 'copy-2in', inputs: 2 },
];

/** Bytes one copy moves: each input read once and the output written once, 4 bytes an element. */
export function copyBytes(variant: CopyVariant, elements: number): number {
  return elements * 4 * (variant.inputs + 1);
}

const WORKGROUP_SIZE = 256;

/** The two copy pipelines of one device, compiled once. */
export class CopyKernels {
  readonly #device: GPUDevice;
  readonly #pipelines: Map<CopyVariant['name'], GPUComputePipeline>;

  private constructor(device: GPUDevice, pipelines: Map<CopyVariant['name'], GPUComputePipeline>) {
    this.#device = device;
    this.#pipelines = pipelines;
  }

  static async create(device: GPUDevice): Promise<CopyKernels> {
    const module = device.createShaderModule({ label: 'bench copy', code: copySource });
    const pipelines = new Map<CopyVariant['name'], GPUComputePipeline>();
    for (const variant of COPY_VARIANTS) {
      pipelines.set(
        variant.name,
        await device.createComputePipelineAsync({
          label: `bench ${variant.name}`,
          layout: 'auto',
          compute: {
            module,
            entryPoint: 'main',
            constants: { WORKGROUP_SIZE, TWO_INPUTS: variant.inputs === 2 ? 1 : 0 },
          },
        }),
      );
    }
    return new CopyKernels(device, pipelines);
  }

  /**
   * Binds one copy of `elements` f32 values. The one-input variant binds `first` twice (two
   * read-only bindings of one buffer are valid) and never reads the second.
   */
  bind(
    variant: CopyVariant,
    buffers: { first: GPUBuffer; second: GPUBuffer; out: GPUBuffer },
    elements: number,
  ): CopyRun {
    const vec4s = Math.ceil(elements / 4);
    const params = this.#device.createBuffer({
      label: `bench ${variant.name} params`,
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#device.queue.writeBuffer(params, 0, new Uint32Array([vec4s, 0, 0, 0]));
    const pipeline = this.#pipelines.get(variant.name)!;
    const second = variant.inputs === 2 ? buffers.second : buffers.first;
    const bindGroup = this.#device.createBindGroup({
      label: `bench ${variant.name}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: params } },
        { binding: 1, resource: { buffer: buffers.first, size: vec4s * 16 } },
        { binding: 2, resource: { buffer: second, size: vec4s * 16 } },
        { binding: 3, resource: { buffer: buffers.out, size: vec4s * 16 } },
      ],
    });
    const maxGroups = Math.min(Math.ceil(vec4s / WORKGROUP_SIZE), this.#device.limits.maxComputeWorkgroupsPerDimension);
    return {
      variant,
      maxWorkgroups: maxGroups,
      encode(encoder, workgroups) {
        const pass = encoder.beginComputePass({ label: `bench ${variant.name}` });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(Math.min(workgroups, maxGroups));
        pass.end();
      },
      destroy: () => params.destroy(),
    };
  }
}

export interface CopyRun {
  readonly variant: CopyVariant;
  /** One vec4 per thread: more workgroups than this would idle. */
  readonly maxWorkgroups: number;
  encode(encoder: GPUCommandEncoder, workgroups: number): void;
  destroy(): void;
}

/**
 * Workgroup counts worth trying for a ceiling: software adapters (lavapipe) want a few fat
 * workgroups, GPUs many; the benchmark times each briefly and keeps the fastest, so the ceiling
 * is the best this kernel does here rather than one guess.
 */
export function workgroupCandidates(maxWorkgroups: number): number[] {
  const candidates = [2, 8, 32, 128, 512, 2048, 8192, 32768, maxWorkgroups];
  return [...new Set(candidates.map((n) => Math.min(n, maxWorkgroups)))];
}

/** Expected content of the copy output, for the one-time check. */
export function expectedCopy(variant: CopyVariant, first: Float32Array, second: Float32Array): Float32Array {
  if (variant.inputs === 1) return first;
  const sum = new Float32Array(first.length);
  for (let i = 0; i < first.length; i++) sum[i] = first[i] + second[i];
  return sum;
}

/** A storage buffer holding `data` (padded to 16 bytes), for the benchmark's inputs. */
export function uploadBytes(device: GPUDevice, data: ArrayBufferView, label: string): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}
