/**
 * Model outputs -> what a person reads: calibrated probabilities, ensemble and TTA means, the
 * out-of-distribution score, and the per-segment timeline.
 */
import type { SegmentWindow } from './sampling';

/** Softmax of logits divided by a temperature (calibration). Numerically stable. */
export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const n = logits.length;
  if (n === 0) return [];
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]! / temperature);
  const out = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(logits[i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < n; i++) out[i]! /= sum;
  return out;
}

/** Element-wise mean of equally long probability vectors (ensemble members, or TTA views). */
export function meanProbs(vectors: ArrayLike<number>[]): number[] {
  if (vectors.length === 0) throw new RangeError('mean of no vectors');
  const n = vectors[0]!.length;
  const out = new Array<number>(n).fill(0);
  for (const v of vectors) {
    if (v.length !== n) throw new RangeError(`vector length ${v.length} differs from ${n}`);
    for (let i = 0; i < n; i++) out[i]! += v[i]!;
  }
  return out.map((x) => x / vectors.length);
}

/** Ensemble = mean of member probabilities. */
export const ensembleMean = meanProbs;
/** Test-time augmentation = mean of the views' probabilities. */
export const ttaMean = meanProbs;

/** Index of the largest entry. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Out-of-distribution score in [0, 1]: the normalised entropy of the (ensemble, calibrated) class
 * distribution. 0 = certain of one class, 1 = uniform over all classes ("none of the four").
 */
export function oodScore(probs: ArrayLike<number>): number {
  const n = probs.length;
  if (n < 2) return 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i]!;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.min(1, Math.max(0, h / Math.log(n)));
}

/** Mean of several attention-weight vectors over the same frames, renormalised to sum to 1. */
export function meanAttention(vectors: ArrayLike<number>[]): number[] {
  const m = meanProbs(vectors);
  const s = m.reduce((a, b) => a + b, 0);
  return s > 0 ? m.map((x) => x / s) : m;
}

export interface Segment {
  t0: number;
  t1: number;
  probs: Record<string, number>;
}

/** Names the entries of a probability vector by class id. */
export function labelProbs(classIds: readonly string[], probs: ArrayLike<number>): Record<string, number> {
  if (probs.length !== classIds.length) throw new RangeError(`${probs.length} probabilities for ${classIds.length} classes`);
  return Object.fromEntries(classIds.map((id, i) => [id, probs[i]!]));
}

/** The timeline: one segment per window, with the head's (calibrated) probabilities for it. */
export function segmentTimeline(windows: SegmentWindow[], windowProbs: ArrayLike<number>[], classIds: readonly string[]): Segment[] {
  if (windows.length !== windowProbs.length) throw new RangeError(`${windowProbs.length} outputs for ${windows.length} windows`);
  return windows.map((w, i) => ({ t0: w.t0, t1: w.t1, probs: labelProbs(classIds, windowProbs[i]!) }));
}
