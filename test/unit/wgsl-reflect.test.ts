// The WGSL declaration reader (src/kernels/reflect.ts): small inline modules for each
// grammar case, then every real shader in shaders/ (read from disk, as the loader ships them).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLASS_BLOCK } from '../../src/core/limits.js';
import { kernelNames, kernelSource, STORAGE_BUFFERS_BEYOND_DEFAULT } from '../../src/kernels/sources.js';
import { checkUniformTable, reflectWgsl, stripWgslComments, type UniformField } from '../../src/kernels/reflect.js';

describe('stripWgslComments', () => {
  it('removes line comments and nested block comments, keeping the code and the line count', () => {
    const source = 'a // one\n/* two /* nested */ still comment */ b\nc /* x\ny */ d';
    const stripped = stripWgslComments(source);
    expect(stripped.replace(/\s+/g, ' ').trim()).toBe('a b c d');
    expect(stripped.split('\n')).toHaveLength(source.split('\n').length);
  });

  it('throws on an unterminated block comment', () => {
    expect(() => stripWgslComments('a /* b /* c */')).toThrow(/unterminated block comment/);
  });
});

describe('structs', () => {
  it('reads fields in order: trailing comma, attributes, comments between fields, template types', () => {
    const { structs } = reflectWgsl(`
      struct Params {
        rows: u32,   // a comment after a field
        /* a block comment */ cols : u32,
        @align(16) scale: f32,
        @size(16) offset: i32,
        stride: vec2< u32 >,
        table: array<vec4<f32>,4>,
      };
      struct Tail { only: f32 }
    `);
    expect(structs.get('Params')).toEqual([
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'scale', type: 'f32' },
      { name: 'offset', type: 'i32' },
      { name: 'stride', type: 'vec2<u32>' },
      { name: 'table', type: 'array<vec4<f32>, 4>' },
    ]);
    expect(structs.get('Tail')).toEqual([{ name: 'only', type: 'f32' }]);
    expect([...structs.keys()]).toEqual(['Params', 'Tail']);
  });

  it('ignores braces inside function bodies and does not take local structs for module ones', () => {
    const { structs } = reflectWgsl(`
      struct A { x: u32 }
      fn f() -> u32 { if (true) { return 1u; } return 0u; }
      struct B { y: f32, }
    `);
    expect([...structs.keys()]).toEqual(['A', 'B']);
  });

  it('throws on a member it cannot read', () => {
    expect(() => reflectWgsl('struct S { x u32 }')).toThrow(/member of struct S/);
  });
});

describe('bindings', () => {
  it('reads group, binding, address space, access and type, attributes in either order and across lines', () => {
    const { bindings } = reflectWgsl(`
      struct P { n: u32 }
      @group(0) @binding(0) var<uniform> params: P;
      @binding(1)
      @group(0)
      var<storage, read> pred: array<vec4<f32>>;
      @group(1) @binding(0) var<storage> implicit_read: array<f32>;
      @group( 1 )
        @binding( 2 ) var < storage , read_write > out : array< u32 >;
      var<workgroup> scratch: array<f32, 64>;
      var<private> seed: u32 = 1u;
    `);
    expect(bindings).toEqual([
      { group: 0, binding: 0, name: 'params', addressSpace: 'uniform', type: 'P' },
      { group: 0, binding: 1, name: 'pred', addressSpace: 'storage', access: 'read', type: 'array<vec4<f32>>' },
      { group: 1, binding: 0, name: 'implicit_read', addressSpace: 'storage', access: 'read', type: 'array<f32>' },
      { group: 1, binding: 2, name: 'out', addressSpace: 'storage', access: 'read_write', type: 'array<u32>' },
    ]);
  });

  it('ignores a commented-out binding', () => {
    const { bindings } = reflectWgsl(`
      // @group(0) @binding(0) var<storage, read> old: array<f32>;
      /* @group(0) @binding(1) var<storage, read> older: array<f32>; */
      @group(0) @binding(2) var<storage, read> kept: array<f32>;
    `);
    expect(bindings.map((b) => b.name)).toEqual(['kept']);
  });

  it.each([
    ['no @group', '@binding(0) var<storage, read> a: array<f32>;', /@binding but no @group/],
    ['no @binding', '@group(0) var<storage, read> a: array<f32>;', /@group but no @binding/],
    ['neither', 'var<uniform> a: u32;', /needs @group and @binding/],
    ['a texture', '@group(0) @binding(0) var t: texture_2d<f32>;', /not a uniform or storage buffer/],
    ['a bad access mode', '@group(0) @binding(0) var<storage, write> a: array<f32>;', /access "write"/],
    ['a non-literal index', '@group(0) @binding(B) var<storage, read> a: array<f32>;', /not an integer literal/],
  ])('throws on a binding with %s', (_, source, message) => {
    expect(() => reflectWgsl(source)).toThrow(message);
  });
});

describe('overrides and entry points', () => {
  it('reads overrides with and without type, default and @id', () => {
    const { overrides } = reflectWgsl(`
      override WORKGROUP_SIZE: u32 = 256u;
      @id(3) override SCALE: f32;
      override USE_F16 = false;
      override COUNT = 4;
      override LIMIT = 0x10u;
      override RATE = 1.5e-3;
      override HALF: u32 = WORKGROUP_SIZE / 2u;
    `);
    expect(overrides).toEqual([
      { name: 'WORKGROUP_SIZE', type: 'u32', defaultValue: '256u' },
      { name: 'SCALE', type: 'f32' },
      { name: 'USE_F16', type: 'bool', defaultValue: 'false' },
      { name: 'COUNT', type: 'i32', defaultValue: '4' },
      { name: 'LIMIT', type: 'u32', defaultValue: '0x10u' },
      { name: 'RATE', type: 'f32', defaultValue: '1.5e-3' },
      { name: 'HALF', type: 'u32', defaultValue: 'WORKGROUP_SIZE / 2u' },
    ]);
  });

  it('throws on an untyped override whose initialiser is an expression', () => {
    expect(() => reflectWgsl('override A: u32 = 1u; override B = A * 2u;')).toThrow(
      /override B needs an explicit type/,
    );
  });

  it('lists @compute functions only, attributes on other lines included', () => {
    const { entryPoints } = reflectWgsl(`
      override WORKGROUP_SIZE: u32 = 64u;
      fn helper(x: u32) -> u32 { return x; }
      @compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
      fn main(@builtin(global_invocation_id) id: vec3<u32>) { _ = helper(id.x); }
      @workgroup_size(min(WORKGROUP_SIZE, 32u))
      @compute
      fn second() {}
    `);
    expect(entryPoints).toEqual(['main', 'second']);
  });

  it('reads module-scope constants, enables and aliases without taking them for declarations it reports', () => {
    const reflection = reflectWgsl(`
      enable f16;
      const NONE: u32 = 0xffffffffu;
      alias Index = u32;
      const_assert NONE > 0u;
    `);
    expect(reflection.structs.size + reflection.bindings.length + reflection.overrides.length).toBe(0);
    expect(reflection.entryPoints).toEqual([]);
  });

  it('reads integer constants (mode values) with and without type, and skips other initialisers', () => {
    const { constants } = reflectWgsl(`
      const ACT_NONE: u32 = 0u;
      const ACT_SOFTMAX = 2u;
      const LIMIT: i32 = 7;
      const MASK = 0xffu;
      const BARE = 3;
      const HALF: f32 = 0.5;
      const DERIVED: u32 = ACT_SOFTMAX * 2u;
      const_assert ACT_SOFTMAX > ACT_NONE;
    `);
    expect(constants).toEqual([
      { name: 'ACT_NONE', type: 'u32', value: 0 },
      { name: 'ACT_SOFTMAX', type: 'u32', value: 2 },
      { name: 'LIMIT', type: 'i32', value: 7 },
      { name: 'MASK', type: 'u32', value: 255 },
      { name: 'BARE', type: 'abstract-int', value: 3 },
    ]);
  });

  it('throws on unbalanced braces and a missing ";"', () => {
    expect(() => reflectWgsl('fn f() { ')).toThrow(/never closed/);
    expect(() => reflectWgsl('fn f() { } }')).toThrow(/unbalanced "}"/);
    expect(() => reflectWgsl('const A: u32 = 1u')).toThrow(/without ";"/);
  });
});

describe('checkUniformTable', () => {
  const { structs } = reflectWgsl('struct P { rows: u32, scale: f32, offset: i32, pad: u32 }');
  const fields = structs.get('P')!;
  const table: UniformField[] = [
    { name: 'rows', kind: 'u32' },
    { name: 'scale', kind: 'f32' },
    { name: 'offset', kind: 'i32' },
    { name: 'pad', kind: 'u32' },
  ];

  it('finds nothing when names, order and types agree', () => {
    expect(checkUniformTable(fields, table)).toEqual([]);
  });

  it('names each field that differs in name, order or type', () => {
    const swapped = [table[1], table[0], { name: 'offset', kind: 'u32' as const }, table[3]];
    expect(checkUniformTable(fields, swapped)).toEqual([
      'field 0: WGSL has "rows: u32", the table has "scale: f32"',
      'field 1: WGSL has "scale: f32", the table has "rows: u32"',
      'field 2: WGSL has "offset: i32", the table has "offset: u32"',
    ]);
  });

  it('reports fields missing on either side', () => {
    expect(checkUniformTable(fields, table.slice(0, 3))).toEqual([
      'field 3: WGSL has "pad: u32", the table has nothing (add it to the table)',
    ]);
    expect(checkUniformTable(fields, [...table, { name: 'extra', kind: 'f32' }])).toEqual([
      'field 4: the table has "extra: f32", the WGSL struct has nothing (remove it or add it to the struct)',
    ]);
  });

  it('reports a WGSL field that is not a scalar', () => {
    const vector = reflectWgsl('struct V { size: vec2<u32> }').structs.get('V')!;
    expect(checkUniformTable(vector, [{ name: 'size', kind: 'u32' }])).toEqual([
      'field 0: WGSL has "size: vec2<u32>", the table has "size: u32"',
    ]);
  });
});

describe('every kernel, composed with its includes', () => {
  const shaderDir = fileURLToPath(new URL('../../shaders/', import.meta.url));
  const files = readdirSync(shaderDir).filter((f) => f.endsWith('.wgsl'));

  it('registers every kernel file in shaders/', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(kernelNames).toContain(file.replace(/\.wgsl$/, ''));
  });

  describe.each(kernelNames)('%s', (kernel) => {
    const reflection = reflectWgsl(kernelSource(kernel).code);

    it('has a compute entry point and buffer bindings', () => {
      expect(reflection.entryPoints).toEqual(['main']);
      expect(reflection.bindings.length).toBeGreaterThan(0);
    });

    // Browsers and wgpu (Deno) give a stage 8 storage buffers unless more are asked for; the
    // few kernels that need more are listed, and their planners check the device's limit.
    it("binds at most 8 storage buffers (WebGPU's default maxStorageBuffersPerShaderStage), or the number it is listed with", () => {
      const storage = reflection.bindings.filter((b) => b.addressSpace === 'storage').length;
      const listed = STORAGE_BUFFERS_BEYOND_DEFAULT[kernel];
      if (listed === undefined) expect(storage).toBeLessThanOrEqual(8);
      else expect(storage).toBe(listed);
    });

    it('gives every binding a unique (group, binding) and a unique name', () => {
      const slots = reflection.bindings.map((b) => `${b.group}:${b.binding}`);
      expect(new Set(slots).size).toBe(slots.length);
      const names = reflection.bindings.map((b) => b.name);
      expect(new Set(names).size).toBe(names.length);
    });

    // A loss pass takes its shapes and scalars from one uniform block; scale_by (dy * grad for
    // wgsl-dice/tfjs) has no shape but its bindings' length and no scalar but dy's buffer.
    it(
      kernel === 'scale_by' ? 'binds no uniform block' : 'binds one uniform block at binding 0 and declares its struct',
      () => {
        const uniforms = reflection.bindings.filter((b) => b.addressSpace === 'uniform');
        expect(uniforms.map((u) => u.binding)).toEqual(kernel === 'scale_by' ? [] : [0]);
        for (const u of uniforms) expect(reflection.structs.has(u.type), `struct ${u.type} of ${u.name}`).toBe(true);
      },
    );
  });

  // The planner keeps up to CLASS_BLOCK classes in registers (REGISTER_CLASSES); the kernels size
  // their per-class arrays by the WGSL constant: the two must agree, or a loop overruns its array.
  it.each([
    'family_forward',
    'family_forward_quads',
    'family_backward',
    'family_backward_quads',
    'wasserstein_forward',
  ] as const)("%s sizes its per-class arrays by the planner's CLASS_BLOCK", (kernel) => {
    const declared = /const CLASS_BLOCK: u32 = (\d+)u;/.exec(stripWgslComments(kernelSource(kernel).code));
    expect(Number(declared?.[1])).toBe(CLASS_BLOCK);
  });

  it('reads dice_reduce_vec4.wgsl with its library', () => {
    const reflection = reflectWgsl(kernelSource('dice_reduce_vec4').code);
    expect(reflection.bindings.map((b) => [b.binding, b.name, b.addressSpace, b.access, b.type])).toEqual([
      [0, 'params', 'uniform', undefined, 'ReduceParams'],
      [3, 'partials', 'storage', 'read_write', 'array<vec4<f32>>'],
      [4, 'faults', 'storage', 'read_write', 'array<vec4<u32>>'],
      [1, 'pred', 'storage', 'read', 'array<vec4<f32>>'],
      [2, 'truth', 'storage', 'read', 'array<vec4<f32>>'],
    ]);
    expect(reflection.overrides).toEqual([{ name: 'WORKGROUP_SIZE', type: 'u32', defaultValue: '256u' }]);
    expect(reflection.structs.get('ReduceParams')!.map((f) => f.name)).toEqual([
      'rows',
      'cols',
      'cols_per_group',
      'lanes',
      'rows_per_chunk',
      'chunks',
      'chunk_offset',
      'row_step',
      'tree_start',
      'linear_base',
      'unit_base',
    ]);
  });
});
