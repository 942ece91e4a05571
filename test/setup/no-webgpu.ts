// Stands in for the `webgpu` package (dawn.node) in the unit tier (see vitest.config.ts), so a
// unit test that reaches for a GPU fails at import with this message instead of needing an
// adapter on the machine.
throw new Error(
  'The unit tier (test/unit) runs without WebGPU: this test imports `webgpu` (e.g. through src/node or ' +
    'test/helpers/gpu.ts). Move it to test/ (the GPU tier) or test the GPU-free part only.',
);
export {};
