// WGSL files are imported as text: esbuild's `text` loader in build.mjs, a small plugin in
// vitest.config.ts. Keeping shaders in real .wgsl files lets editors and linters see them.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
