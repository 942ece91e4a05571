// Counts the GPU buffers a device creates and destroys: the device's createBuffer (and
// createBindGroup) are wrapped, calling through so every number stays real, and each created
// buffer's destroy() is wrapped too. Tests check with it that calls allocate nothing in a steady
// loop and that what a loss or a cache drops is given back.

export interface BufferSpy {
  readonly buffersCreated: number;
  readonly buffersDestroyed: number;
  readonly bindGroupsCreated: number;
  /** The three counts as plain numbers, to compare before and after. */
  counts(): { buffersCreated: number; buffersDestroyed: number; bindGroupsCreated: number };
  /** The buffers created and not yet destroyed, with their labels and sizes. */
  live(): { label: string; size: number }[];
  /** Removes the wrappers (the prototype's methods show through again). */
  restore(): void;
}

export function spyOnBuffers(device: GPUDevice): BufferSpy {
  const createBuffer = device.createBuffer;
  const createBindGroup = device.createBindGroup;
  const alive = new Set<GPUBuffer>();
  const counts = { buffersCreated: 0, buffersDestroyed: 0, bindGroupsCreated: 0 };
  device.createBuffer = function (descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = createBuffer.call(device, descriptor);
    counts.buffersCreated++;
    alive.add(buffer);
    const destroy = buffer.destroy;
    buffer.destroy = function (): undefined {
      if (alive.delete(buffer)) counts.buffersDestroyed++;
      return destroy.call(buffer);
    };
    return buffer;
  };
  device.createBindGroup = function (descriptor: GPUBindGroupDescriptor): GPUBindGroup {
    counts.bindGroupsCreated++;
    return createBindGroup.call(device, descriptor);
  };
  return {
    get buffersCreated() {
      return counts.buffersCreated;
    },
    get buffersDestroyed() {
      return counts.buffersDestroyed;
    },
    get bindGroupsCreated() {
      return counts.bindGroupsCreated;
    },
    counts: () => ({ ...counts }),
    live: () => [...alive].map((b) => ({ label: b.label, size: b.size })),
    restore() {
      delete (device as Partial<GPUDevice>).createBuffer;
      delete (device as Partial<GPUDevice>).createBindGroup;
    },
  };
}
