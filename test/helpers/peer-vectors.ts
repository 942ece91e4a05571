// The peer test vectors (test/fixtures/vectors-public.json, provenance in test/fixtures/README.md)
// for the vitest suites: loading them, and failing a test when a result is off. How a case runs
// and how it is judged (the tolerance policy) is in peer-judge.ts, shared with the Deno run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Nested, PeerCase, PeerValue } from '../../src/reference/peers/index.js';
import { judgeVectorResult, type VectorCase as JudgedCase } from './peer-judge.js';

export { flat, runVectorCase, shapeOf, toleranceOf, type Tolerance } from './peer-judge.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const VECTORS_PATH = path.resolve(here, '../fixtures/vectors-public.json');

export interface VectorCase extends PeerCase {
  id: string;
  library: string;
  source_tolerance: string;
  expected: Nested;
  expected_isnan?: Nested | null;
}

export function loadVectors(): VectorCase[] {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorCase[];
}

/** Fails unless `actual` is what case `c` expects, under the policy of peer-judge.ts. */
export function expectVectorResult(c: VectorCase, actual: PeerValue): void {
  const problem = judgeVectorResult(c as unknown as JudgedCase, actual);
  if (problem !== null) throw new Error(`${c.id}: ${problem}`);
}
