// How test/readme.test.ts reads the README (test/helpers/readme-blocks.ts): which blocks are
// programs, which continue the one before, where each runs; and the rules the README keeps so
// that every block a reader pastes is whole.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../browser/dist.js';
import { CONTINUES, readmeBlocks, readmePrograms, readmeTsconfig } from '../helpers/readme-blocks.js';

const FENCE = '```';
const SAMPLE = [
  '# Title',
  '## Node part',
  `${FENCE}sh`,
  'npm install wgsl-dice webgpu',
  FENCE,
  `${FENCE}ts`,
  "import { requestNodeDevice } from 'wgsl-dice/node';",
  'const device = await requestNodeDevice();',
  FENCE,
  'Then:',
  `${FENCE}ts`,
  CONTINUES,
  'device.destroy();',
  FENCE,
  '## Browser part',
  `${FENCE}ts`,
  "import { DiceEngine } from 'wgsl-dice';",
  'const adapter = await navigator.gpu.requestAdapter();',
  FENCE,
  `${FENCE}json`,
  '{ "compilerOptions": { "strict": true } }',
  FENCE,
].join('\n');

describe('README blocks', () => {
  it('reads fences with their language, heading and line', () => {
    const blocks = readmeBlocks(SAMPLE);
    expect(blocks.map((b) => [b.lang, b.heading, b.line])).toEqual([
      ['sh', 'Node part', 3],
      ['ts', 'Node part', 6],
      ['ts', 'Node part', 11],
      ['ts', 'Browser part', 16],
      ['json', 'Browser part', 20],
    ]);
  });

  it('appends a block that says it continues to the program before it; a program without wgsl-dice/node is a browser one', () => {
    const programs = readmePrograms(readmeBlocks(SAMPLE));
    expect(programs.map((p) => [p.name, p.where])).toEqual([
      ['node-part', 'node'],
      ['browser-part', 'browser'],
    ]);
    expect(programs[0].code).toContain('requestNodeDevice();\n// continues the previous block\ndevice.destroy();');
    expect(readmeTsconfig(readmeBlocks(SAMPLE))).toEqual({ compilerOptions: { strict: true } });
  });

  it('refuses an unclosed block and a first block that continues nothing', () => {
    expect(() => readmeBlocks(`${FENCE}ts\nconst a = 1;\n`)).toThrow(/not closed/);
    expect(() => readmePrograms(readmeBlocks(`${FENCE}ts\n${CONTINUES}\n${FENCE}\n`))).toThrow(/cannot continue/);
  });

  it('the README: every TypeScript block starts with its imports or says it continues, and names are unique', () => {
    const blocks = readmeBlocks(readFileSync(`${REPO_ROOT}/README.md`, 'utf8'));
    for (const block of blocks.filter((b) => b.lang === 'ts')) {
      expect(/^(import |\/\/ continues the previous block)/.test(block.code), `README line ${block.line}`).toBe(true);
    }
    const names = readmePrograms(blocks).map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(readmeTsconfig(blocks)).toMatchObject({ compilerOptions: { strict: true, module: 'nodenext' } });
  });
});
