import { WgslDiceError, type WgslDiceErrorCode } from '../core/errors.js';

/**
 * The layout rule (docs/options.md, "The layout rule"): a shape is read channels-last,
 * `[B, ...spatial, C]`, unless `layout: 'channels-first'` says `[B, C, ...spatial]`. Whether a
 * shape "looks" channels-first cannot decide it: `[2, 3, 3, 3]`, `[2, 4, 64, 64]` and
 * `[1, 8, 8, 8]` are all valid channels-last shapes (volumes with 3, 64 and 8 classes), and an
 * error or warning on such a guess would fire on real data. So wgsl-dice never guesses; it
 * speaks up only where the options themselves show that the data is channels-first: an option
 * sized by the class count (`weights`, `crossEntropy.weights`, `focal.weights`, `focal.alpha`, a
 * distance matrix) whose length matches `shape[1]` but not the last axis, while no layout was
 * given. Those options were errors already (one entry per class is checked); this names the likely
 * cause and the fix. A dense target of pred's shape fits either reading, so an NCHW shape without
 * `layout` and without such an option computes a different, valid loss: pass `layout` for NCHW.
 */
export function rejectUndeclaredChannelsFirst(options: object, fix: string): void {
  const o = options as Record<string, unknown>;
  if (o.layout !== undefined || !Array.isArray(o.shape) || o.shape.length < 3) return;
  const first: unknown = o.shape[1];
  const last: unknown = o.shape[o.shape.length - 1];
  if (typeof first !== 'number' || typeof last !== 'number' || first === last) return;
  const sized: [string, unknown, WgslDiceErrorCode][] = [
    ['weights', o.weights, 'INVALID_WEIGHTS'],
    ['distanceMatrix', o.distanceMatrix, 'INVALID_OPTION'],
  ];
  for (const [group, fields] of [
    ['crossEntropy', ['weights']],
    ['focal', ['weights', 'alpha']],
  ] as const) {
    const nested = o[group];
    if (typeof nested !== 'object' || nested === null) continue;
    for (const field of fields) {
      sized.push([`${group}.${field}`, (nested as Record<string, unknown>)[field], 'INVALID_WEIGHTS']);
    }
  }
  for (const [name, value, code] of sized) {
    if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) continue;
    const length = (value as ArrayLike<unknown>).length;
    // focal.alpha without the background has C - 1 entries: compare both ways it can be sized.
    const matchesFirst = length === first || (name === 'focal.alpha' && length === first - 1);
    const matchesLast = length === last || (name === 'focal.alpha' && length === last - 1);
    if (matchesFirst && !matchesLast) {
      throw new WgslDiceError(
        code,
        `${name} has ${length} entries, as many as shape[1], but shape [${o.shape.join(', ')}] is read ` +
          `channels-last ([B, ...spatial, C], the default) with C = ${last} classes. ${fix} For channels-last ` +
          `data, give ${name} one entry per class (${last}).`,
      );
    }
  }
}
