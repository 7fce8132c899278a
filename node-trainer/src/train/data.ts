/** A split of a feature store held in memory (as float16, half the RAM) and cut into batches. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLASS_IDS, DEFAULT_TAXONOMY, flattenSubclasses } from '../../../src/core/taxonomy.ts';
import { decodeHalf } from '../features/float16.ts';
import type { FeatureItem } from '../features/store.ts';
import { tf } from './backend.ts';
import type { Rng } from './rng.ts';

/** `class/subclass` keys in the order of the head's subclass logits. */
export const SUBCLASS_KEYS: string[] = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);

export interface ClipSet {
  frames: number;
  dim: number;
  keys: string[];
  /** The source (package, game, deck) of each clip. */
  sources: string[];
  labels: Int32Array;
  /** Index into SUBCLASS_KEYS, or -1 when the clip's subclass is unknown. */
  subLabels: Int32Array;
  half: Uint16Array[];
}

/** Class index and subclass index (-1 if none/unknown) of an item. */
export function itemLabels(item: Pick<FeatureItem, 'class' | 'subclass'>): { label: number; sub: number } {
  return { label: CLASS_IDS.indexOf(item.class), sub: item.subclass ? SUBCLASS_KEYS.indexOf(`${item.class}/${item.subclass}`) : -1 };
}

/** Loads the given items' features from a store directory. */
export function loadClipSet(dir: string, items: FeatureItem[], frames: number, dim: number): ClipSet {
  const half: Uint16Array[] = [];
  for (const it of items) {
    if (it.frames !== frames) throw new Error(`clip ${it.path} has ${it.frames} frames, the store ${frames}`);
    const buf = readFileSync(join(dir, 'items', `${it.key}.f16`));
    if (buf.byteLength !== frames * dim * 2)
      throw new Error(`features of ${it.path} are ${buf.byteLength} bytes, expected ${frames * dim * 2}`);
    half.push(new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)));
  }
  const lab = items.map(itemLabels);
  return {
    frames,
    dim,
    keys: items.map((i) => i.key),
    sources: items.map((i) => i.source),
    labels: Int32Array.from(lab.map((l) => l.label)),
    subLabels: Int32Array.from(lab.map((l) => l.sub)),
    half,
  };
}

/** Features of the clips at `idx` as a [n, T, D] tensor. */
export function batchTensor(set: ClipSet, idx: number[]): tf.Tensor3D {
  const per = set.frames * set.dim;
  const data = new Float32Array(idx.length * per);
  idx.forEach((i, r) => data.set(decodeHalf(set.half[i]!), r * per));
  return tf.tensor3d(data, [idx.length, set.frames, set.dim]);
}

/**
 * Stored frame indices for one clip seen through `n` frames, one per bin of n equal bins over the
 * T stored frames: drawn uniformly within each bin when `draw` (a [0, 1) source) is given, else the
 * frame nearest the bin centre (what subsampleFrames and the app use). Ascending, so order is kept.
 */
export function binFrames(stored: number, n: number, draw?: () => number): number[] {
  if (!Number.isInteger(n) || n < 1 || n > stored) throw new RangeError(`frames must be an integer in [1, ${stored}], got ${n}`);
  return Array.from({ length: n }, (_, j) => {
    const lo = Math.floor((j * stored) / n);
    const hi = Math.max(lo + 1, Math.floor(((j + 1) * stored) / n));
    const at = draw ? lo + Math.floor(draw() * (hi - lo)) : Math.floor(((j + 0.5) * stored) / n);
    return Math.min(stored - 1, at);
  });
}

/** A [idx.length, n, D] batch where each clip shows n of its frames, drawn by binFrames (temporal jitter). */
export function jitteredBatchTensor(set: ClipSet, idx: number[], n: number, draw: () => number): tf.Tensor3D {
  const data = new Float32Array(idx.length * n * set.dim);
  idx.forEach((i, r) => {
    const all = decodeHalf(set.half[i]!);
    binFrames(set.frames, n, draw).forEach((f, j) => data.set(all.subarray(f * set.dim, (f + 1) * set.dim), (r * n + j) * set.dim));
  });
  return tf.tensor3d(data, [idx.length, n, set.dim]);
}

/**
 * The clips seen through `n` of their stored frames: for each of n evenly spaced samples, the stored
 * frame whose bin centre is nearest (src/core/sampling puts sample i at the centre of bin i of n), so a
 * head can be scored as if the app sampled n frames instead of the T the store holds.
 */
export function subsampleFrames(set: ClipSet, n: number): ClipSet {
  const pick = binFrames(set.frames, n);
  if (n === set.frames) return set;
  const half = set.half.map((h) => {
    const out = new Uint16Array(n * set.dim);
    pick.forEach((i, j) => out.set(h.subarray(i * set.dim, (i + 1) * set.dim), j * set.dim));
    return out;
  });
  return { ...set, frames: n, half };
}

/**
 * One epoch's order of training clips. Without balancing (alpha and beta 0): a shuffled permutation.
 * Otherwise as many draws with replacement. `alpha` balances sources within a class: clip i is drawn
 * with weight n_s^-alpha (n_s: the clips of its source), normalised within its class; at alpha 1
 * each source of a class is drawn as often as any other, so a game with 40 clips no longer outweighs
 * one with 5 (the model sees more of the variety between sources). `beta` balances the classes: a
 * class's share of the draws is proportional to n_c^(1 - beta) (n_c: its clips); at 0 every class
 * keeps its share of the clips, at 1 every class is drawn equally often.
 */
export function epochOrder(set: Pick<ClipSet, 'labels' | 'sources'>, alpha: number, rng: Rng, beta = 0): number[] {
  const n = set.labels.length;
  if (!(alpha > 0) && !(beta > 0)) return rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const perSource = new Map<string, number>();
  for (const s of set.sources) perSource.set(s, (perSource.get(s) ?? 0) + 1);
  const raw = set.sources.map((s) => perSource.get(s)! ** -alpha);
  const classRaw = new Map<number, number>();
  const classCount = new Map<number, number>();
  set.labels.forEach((y, i) => {
    classRaw.set(y, (classRaw.get(y) ?? 0) + raw[i]!);
    classCount.set(y, (classCount.get(y) ?? 0) + 1);
  });
  // Cumulative weights for inverse-CDF draws (binary search).
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const y = set.labels[i]!;
    total += (raw[i]! / classRaw.get(y)!) * classCount.get(y)! ** (1 - beta);
    cum[i] = total;
  }
  return Array.from({ length: n }, () => {
    const u = rng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  });
}
