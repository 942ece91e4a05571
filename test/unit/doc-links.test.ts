// Every relative link in the README and docs/ points at a file that exists and, with a #fragment,
// at a heading of that file (GitHub's anchors), so moving a section cannot leave a dead link.
// Links into the repository (bench/RESULTS.md, test/...) are checked the same way.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = !inFence && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    let anchor = githubAnchor(heading[1]);
    for (let n = 1; anchors.has(anchor); n++) anchor = `${githubAnchor(heading[1])}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** The markdown without fenced code blocks (whose text may look like links). */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

describe('documentation links', () => {
  it('anchors follow GitHub', () => {
    expect(githubAnchor('Options of `engine.loss`')).toBe('options-of-engineloss');
    expect(githubAnchor('Coming from MONAI, PyTorch or tfjs')).toBe('coming-from-monai-pytorch-or-tfjs');
    expect(githubAnchor('TensorFlow.js')).toBe('tensorflowjs');
  });

  it.each(PAGES)('every relative link of %s resolves, anchors included', (page) => {
    const text = prose(readFileSync(join(ROOT, page), 'utf8'));
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, fragment] = target.split('#');
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), path);
      if (!existsSync(file)) {
        broken.push(`${target} (no file ${relative(ROOT, file)})`);
        continue;
      }
      if (fragment !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(fragment)) {
        broken.push(`${target} (no heading #${fragment} in ${relative(ROOT, file)})`);
      }
    }
    expect(broken).toEqual([]);
  });
});
