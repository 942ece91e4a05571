// The README's code blocks, for test/readme.test.ts: every ```ts block is a complete program, or
// continues the block before it when its first line says so (`// continues the previous block`).
// A program that imports neither `wgsl-dice/node` nor a `node:` module is a browser program (in
// Node, a device comes from `wgsl-dice/node`); the others are Node programs. The ```json block holding "compilerOptions" is the README's tsconfig.json.

/** A fenced block of the README: its language, its text, and the heading it sits under. */
export interface ReadmeBlock {
  lang: string;
  code: string;
  heading: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

/** A TypeScript program of the README: one block, with the blocks it continues before it. */
export interface ReadmeProgram {
  /** A file name made from the heading, unique in the README. */
  name: string;
  heading: string;
  line: number;
  code: string;
  where: 'node' | 'browser';
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { REPO_ROOT } from '../browser/dist.js';

export const CONTINUES = '// continues the previous block';

export function readmeBlocks(readme: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = readme.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (/^#{1,6} /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    if (i === lines.length) throw new Error(`README line ${start + 1}: a code block is not closed`);
    blocks.push({ lang: open[1], code: `${body.join('\n')}\n`, heading, line: start + 1 });
  }
  return blocks;
}

export function readmePrograms(blocks: readonly ReadmeBlock[]): ReadmeProgram[] {
  const programs: ReadmeProgram[] = [];
  const names = new Map<string, number>();
  for (const block of blocks.filter((b) => b.lang === 'ts')) {
    if (block.code.startsWith(CONTINUES)) {
      const previous = programs.at(-1);
      if (!previous) throw new Error(`README line ${block.line}: the first ts block cannot continue another`);
      previous.code += block.code;
      continue;
    }
    const base =
      block.heading
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'top';
    const count = (names.get(base) ?? 0) + 1;
    names.set(base, count);
    programs.push({
      name: count === 1 ? base : `${base}-${count}`,
      heading: block.heading,
      line: block.line,
      code: block.code,
      where: 'node',
    });
  }
  for (const program of programs)
    program.where = /from '(wgsl-dice\/node|node:[^']+)'/.test(program.code) ? 'node' : 'browser';
  return programs;
}

/** The README's tsconfig.json: its one ```json block with "compilerOptions". */
export function readmeTsconfig(blocks: readonly ReadmeBlock[]): Record<string, unknown> {
  const configs = blocks.filter((b) => b.lang === 'json' && b.code.includes('"compilerOptions"'));
  if (configs.length !== 1) throw new Error(`the README should have one tsconfig.json block, found ${configs.length}`);
  return JSON.parse(configs[0].code) as Record<string, unknown>;
}

/**
 * The README's browser program under the heading that starts with `heading`, as an ES module a
 * test page can import: TypeScript stripped, each package in `imports` replaced by the page's URL
 * for it (the built bundles), the rest left to the page's import map.
 */
export async function readmeBrowserModule(heading: string, imports: Record<string, string>): Promise<string> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const program = readmePrograms(readmeBlocks(readme)).find(
    (p) => p.where === 'browser' && p.heading.startsWith(heading),
  );
  if (!program) throw new Error(`the README has no browser program under "${heading}"`);
  const { code } = await transform(program.code, { loader: 'ts', format: 'esm', target: 'es2022' });
  return Object.entries(imports).reduce(
    (text, [name, url]) =>
      text.replaceAll(`from "${name}"`, `from "${url}"`).replaceAll(`from '${name}'`, `from '${url}'`),
    code,
  );
}

/**
 * Page-side script (a string, so that vitest does not rewrite its dynamic import) that imports
 * `url` and resolves to the lines it printed with console.log.
 */
export function importCapturingLog(url: string): string {
  return `(async () => {
    const lines = [];
    const log = console.log;
    console.log = (...args) => lines.push(args.map(String).join(' '));
    try {
      await import(${JSON.stringify(url)});
    } finally {
      console.log = log;
    }
    return lines;
  })()`;
}
