// The layers of src/ and the one-way rule between them, checked on the import graph (type-only
// imports, `export ... from`, dynamic `import()` and `import('...')` types included): every
// import goes to the same layer or to one the table below allows, and the graph has no cycle.
// A failure prints the offending edges or the cycle.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Each layer and the layers it may import (besides its own). Read upwards it is one order:
 * core < spec, kernels < program < runtime < losses < presets < engine < index < node, tfjs < cli,
 * with peers/ (the peer libraries' facts) beside it, over core only, and reference/ (the float64
 * oracle) over core, spec and peers.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  core: [],
  spec: ['core'],
  // The WGSL side knows no option type: spec -> program mappings live in program/.
  kernels: ['core'],
  program: ['core', 'spec', 'kernels'],
  runtime: ['core', 'kernels', 'program'],
  losses: ['core', 'spec', 'kernels', 'program', 'runtime'],
  peers: ['core'],
  // Over LossFactory and the losses' public types, and peers/; never the oracle.
  presets: ['core', 'spec', 'losses', 'peers'],
  engine: ['core', 'spec', 'kernels', 'program', 'runtime', 'losses', 'presets'],
  index: ['core', 'spec', 'kernels', 'program', 'runtime', 'losses', 'presets', 'engine'],
  reference: ['core', 'spec', 'peers'],
  node: ['index'],
  // Through index.ts only: the tfjs bundle imports the core from the sibling dist/index.js.
  tfjs: ['index'],
  cli: ['index', 'node', 'reference', 'presets'],
};

/** Only the entry points that run on Node may import Node's modules or dawn.node. */
const NODE_ONLY = new Set(['node', 'cli']);

function layerOf(file: string): string | undefined {
  if (file === 'engine.ts') return 'engine';
  if (file === 'index.ts') return 'index';
  if (file === 'wgsl.d.ts') return 'core';
  const folder = file.split('/')[0];
  return folder in MAY_IMPORT && file.includes('/') ? folder : undefined;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full).split(path.sep).join('/')] : [];
  });
}

/** Every module specifier a file names: imports, type imports, re-exports, import() and import types. */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(SRC, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

const files = sourceFiles();
const known = new Set(files);
const edges: Edge[] = [];
const external: Edge[] = [];
for (const from of files) {
  for (const specifier of specifiers(from)) {
    if (!specifier.startsWith('.')) {
      external.push({ from, to: specifier });
      continue;
    }
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    if (target.startsWith('../')) continue; // shaders/*.wgsl, outside src/
    const to = target.replace(/\.js$/, '.ts');
    if (!known.has(to)) throw new Error(`${from} imports ${specifier}, which is no file of src/`);
    edges.push({ from, to });
  }
}

/** The cycles of the graph: each strongly connected component of more than one file (or a self-import). */
function cycles(nodes: readonly string[], graph: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of graph) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || next.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const n of nodes) if (!index.has(n)) connect(n);
  return found;
}

describe('the layers of src/', () => {
  it('every file belongs to a layer', () => {
    expect(
      files.filter((f) => layerOf(f) === undefined),
      'files outside every layer',
    ).toEqual([]);
  });

  it('every import goes down the layer order (type imports included)', () => {
    const against = edges
      .filter(({ from, to }) => {
        const [a, b] = [layerOf(from)!, layerOf(to)!];
        return a !== b && !MAY_IMPORT[a].includes(b);
      })
      .map(({ from, to }) => {
        const layer = layerOf(from)!;
        return `src/${from} (${layer}) imports src/${to} (${layerOf(to)}); ${layer} may import ${MAY_IMPORT[layer].join(', ') || 'nothing else from src/'}`;
      });
    expect(against, against.join('\n')).toEqual([]);
  });

  it('only the Node entry points import Node modules or dawn.node', () => {
    const against = external
      .filter(({ from, to }) => (to.startsWith('node:') || to === 'webgpu') && !NODE_ONLY.has(layerOf(from)!))
      .map(({ from, to }) => `src/${from} (${layerOf(from)}) imports ${to}`);
    expect(against, against.join('\n')).toEqual([]);
  });

  it("the package's runtime dependencies are the CLI's alone: no library entry imports one", () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const dependencies = Object.keys(manifest.dependencies ?? {});
    const against = external
      .filter(({ from, to }) => dependencies.some((d) => to === d || to.startsWith(`${d}/`)) && layerOf(from) !== 'cli')
      .map(({ from, to }) => `src/${from} (${layerOf(from)}) imports ${to}, a dependency only the CLI may use`);
    expect(against, against.join('\n')).toEqual([]);
    expect(external.some((e) => e.from === 'cli/nifti.ts' && e.to === 'nifti-reader-js')).toBe(true);
  });

  it('the import graph has no cycle', () => {
    // Each cycle as its files and the edges between them.
    const found = cycles(files, edges).map((component) => {
      const inside = edges.filter((e) => component.includes(e.from) && component.includes(e.to));
      return `${component.length} files: ${inside.map((e) => `src/${e.from} -> src/${e.to}`).join(', ')}`;
    });
    expect(found, found.join('\n')).toEqual([]);
  });

  it('reads the graph it checks (imports, type imports, re-exports and import() are all edges)', () => {
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    expect(has('engine.ts', 'presets/index.ts')).toBe(true); // import { createPresets }
    expect(has('presets/common.ts', 'losses/factory.ts')).toBe(true); // import type
    expect(has('index.ts', 'core/errors.ts')).toBe(true); // export ... from
    expect(external.some((e) => e.from === 'node/index.ts' && e.to === 'webgpu')).toBe(true); // import('webgpu')
    expect(
      cycles(
        ['a', 'b', 'c'],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
          { from: 'c', to: 'a' },
        ],
      ),
    ).toEqual([['a', 'b', 'c']]);
  });
});
