/**
 * Per-dimension input standardisation for training, folded into the head's input projection when
 * weights are saved, so a checkpoint (and its ONNX export) still takes the raw backbone features.
 *
 * Why: the backbone features are not on one scale. Pooled activations of early MobileNetV2 blocks
 * (import-backbone --taps) are orders of magnitude apart from dimension to dimension, and AdamW
 * moves every weight by about the learning rate whatever its input's scale, so large dimensions
 * drown the rest. Training on (x - mean) * scale, with the training split's statistics, removes that.
 *
 * The fold is exact algebra on proj (kernel W [D, P], bias b [P]):
 *   ((x - m) * s) W + b = x (diag(s) W) + (b - (m * s) W)
 * A "stats" head folds it into its kernels the same way: the mean over frames of standardised
 * inputs is (m - mean) * s, and their standard deviation is s times the raw one (but for STATS_EPS
 * under the square root, which the fold scales by s^2: a change far below a logit's 1e-3).
 * Hand-written: a few loops over two arrays; no library computes this.
 */
import { decodeHalf } from '../features/float16.ts';
import { STATS_EPS, type HeadConfig, type HeadWeights } from '../head/params.ts';
import { tf } from './backend.ts';
import { binFrames, type ClipSet } from './data.ts';

export interface InputStats {
  mean: Float32Array;
  /** 1 / sqrt(variance + floor). */
  scale: Float32Array;
  /**
   * A stats head's `poolStandardize`: the mean and scale of its statistics vector [means, standard
   * deviations] (2D), over the training clips, applied after `mean` and `scale` (pooledStats).
   */
  pooled?: { mean: Float32Array; scale: Float32Array };
}

/** Statistics that change nothing (a stats head with poolStandardize and no standardize). */
export function identityStats(dim: number): InputStats {
  return { mean: new Float32Array(dim), scale: new Float32Array(dim).fill(1) };
}

/**
 * Variance floor, as a fraction of the mean per-dimension variance: a dimension that hardly moves on
 * the training clips (a channel that is almost always 0) is not blown up into a large input.
 */
export const VARIANCE_FLOOR = 1e-2;

/** Mean and scale of every feature dimension over all frames of all clips of `set` (float64 sums). */
export function inputStats(set: ClipSet): InputStats {
  const D = set.dim;
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  let n = 0;
  for (const h of set.half) {
    const x = decodeHalf(h);
    for (let t = 0; t < set.frames; t++) {
      const o = t * D;
      for (let d = 0; d < D; d++) {
        const v = x[o + d]!;
        sum[d]! += v;
        sq[d]! += v * v;
      }
    }
    n += set.frames;
  }
  if (n === 0) throw new Error('input statistics need at least one clip');
  const mean = new Float32Array(D);
  const variance = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    const m = sum[d]! / n;
    mean[d] = m;
    variance[d] = Math.max(0, sq[d]! / n - m * m);
  }
  return { mean, scale: flooredScales(variance) };
}

/** 1 / sqrt(variance + floor) per dimension, the floor VARIANCE_FLOOR of the mean variance. */
function flooredScales(variance: Float64Array): Float32Array {
  let meanVar = 0;
  for (let d = 0; d < variance.length; d++) meanVar += variance[d]! / variance.length;
  const floor = VARIANCE_FLOOR * meanVar || 1;
  return Float32Array.from(variance, (v) => 1 / Math.sqrt(v + floor));
}

/**
 * Mean and scale of a stats head's statistics vector [m, s] (2D: each dimension's mean and standard
 * deviation over a clip's frames, as head/params.ts computes them) over the clips of `set`, seen
 * through `frames` bin-centre frames (the frames the app samples) after the per-frame `s`.
 *
 * Why: per-frame standardisation scales a dimension's clip mean and spread by its spread over all
 * frames, which within-clip motion inflates, so the weight penalty falls unevenly on the
 * statistics. Scaling each statistic by its own spread over the clips is what a ridge regression on
 * them does. On the default corpus's folds, a numpy ridge probe on the same features scored pooled
 * macro-F1 0.745 this way against 0.722-0.729 standardised per frame (session 25 note on issue #6).
 * The variance floor is VARIANCE_FLOOR of each half's mean variance.
 */
export function pooledStats(set: ClipSet, s: InputStats, frames: number): { mean: Float32Array; scale: Float32Array } {
  const D = set.dim;
  const sum = new Float64Array(2 * D);
  const sq = new Float64Array(2 * D);
  forEachClipStatistics(set, s, frames, (_, m, sd) => {
    for (let d = 0; d < D; d++) {
      sum[d]! += m[d]!;
      sq[d]! += m[d]! * m[d]!;
      sum[D + d]! += sd[d]!;
      sq[D + d]! += sd[d]! * sd[d]!;
    }
  });
  const n = set.half.length;
  if (n === 0) throw new Error('pooled statistics need at least one clip');
  const mean = Float32Array.from(sum, (x) => x / n);
  const variance = Float64Array.from(sq, (x, i) => Math.max(0, x / n - mean[i]! * mean[i]!));
  const scale = new Float32Array(2 * D);
  scale.set(flooredScales(variance.subarray(0, D)), 0);
  scale.set(flooredScales(variance.subarray(D)), D);
  return { mean, scale };
}

/**
 * Each clip's statistics as a stats head computes them (head/params.ts): per dimension, the mean
 * `m` and standard deviation `sd` (sqrt(variance + STATS_EPS)) over `frames` bin-centre frames, of
 * the inputs standardised by `s`. `visit` gets clip i's arrays, reused for the next clip.
 */
export function forEachClipStatistics(
  set: ClipSet,
  s: Pick<InputStats, 'mean' | 'scale'>,
  frames: number,
  visit: (i: number, m: Float64Array, sd: Float64Array) => void,
): void {
  const D = set.dim;
  const pick = binFrames(set.frames, frames);
  const m = new Float64Array(D);
  const v = new Float64Array(D);
  set.half.forEach((h, i) => {
    const x = decodeHalf(h);
    m.fill(0);
    v.fill(0);
    for (const t of pick) for (let d = 0; d < D; d++) m[d]! += (x[t * D + d]! - s.mean[d]!) * s.scale[d]!;
    for (let d = 0; d < D; d++) m[d]! /= pick.length;
    for (const t of pick)
      for (let d = 0; d < D; d++) {
        const e = (x[t * D + d]! - s.mean[d]!) * s.scale[d]! - m[d]!;
        v[d]! += e * e;
      }
    for (let d = 0; d < D; d++) v[d] = Math.sqrt(v[d]! / pick.length + STATS_EPS);
    visit(i, m, v);
  });
}

/** x [.., D] -> (x - mean) * scale, as tensors (for the training forward pass). */
export function standardizeTensor(x: tf.Tensor, s: { mean: tf.Tensor1D; scale: tf.Tensor1D }): tf.Tensor {
  return tf.mul(tf.sub(x, s.mean), s.scale);
}

/** Weights that compute on raw inputs what `w` computes on standardised ones (see the file comment). */
export function foldInputStats(c: HeadConfig, w: HeadWeights, s: InputStats): HeadWeights {
  const D = c.featureDim;
  if (s.mean.length !== D || s.scale.length !== D) throw new Error(`input statistics have ${s.mean.length} dimensions, the head ${D}`);
  if (c.kind !== 'stats') {
    if (s.pooled) throw new Error('pooled statistics are for a stats head');
    return new Map([...w, ...foldRows(w, 'proj', c.projDim, s, 1)]);
  }
  const outputs = [['cls', c.classes] as const, ...(c.subclasses > 0 ? [['sub', c.subclasses] as const] : [])];
  const p = s.pooled;
  if (p && p.mean.length !== 2 * D) throw new Error(`pooled statistics have ${p.mean.length} dimensions, the head ${2 * D}`);
  // The pooled standardisation is applied last, so it is folded first: its statistics span the
  // whole statistics vector (one block of 2D rows), then the per-frame ones its two halves.
  const onStats: HeadWeights = p ? new Map([...w, ...outputs.flatMap(([prefix, P]) => foldRows(w, prefix, P, p, 1))]) : w;
  return new Map([...onStats, ...outputs.flatMap(([prefix, P]) => foldRows(onStats, prefix, P, s, 2))]);
}

/**
 * The inverse of foldInputStats for a stats head: weights that compute on raw features (an
 * exported head's, train/anchor.ts) as weights on the inputs standardised by `s`, the view the
 * training forward pass trains. Folding the result with the same `s` gives `w` back (up to float
 * rounding).
 */
export function unfoldInputStats(c: HeadConfig, w: HeadWeights, s: InputStats): HeadWeights {
  const D = c.featureDim;
  if (c.kind !== 'stats') throw new Error('only a stats head is unfolded');
  if (s.mean.length !== D || s.scale.length !== D) throw new Error(`input statistics have ${s.mean.length} dimensions, the head ${D}`);
  const outputs = [['cls', c.classes] as const, ...(c.subclasses > 0 ? [['sub', c.subclasses] as const] : [])];
  // Folded pooled-first, then per frame: undone per frame first, then pooled.
  const onStats: HeadWeights = new Map([...w, ...outputs.flatMap(([prefix, P]) => unfoldRows(w, prefix, P, s, 2))]);
  const p = s.pooled;
  return p ? new Map([...onStats, ...outputs.flatMap(([prefix, P]) => unfoldRows(onStats, prefix, P, p, 1))]) : onStats;
}

/** foldRows undone: each row divided by its scale, and the bias given back the shift of block 0. */
function unfoldRows(w: HeadWeights, prefix: string, P: number, s: Pick<InputStats, 'mean' | 'scale'>, rowBlocks: number) {
  const kernel = w.get(`${prefix}/kernel`)!.slice();
  const n = s.mean.length;
  const shift = new Float64Array(P);
  for (let k = 0; k < rowBlocks; k++)
    for (let d = 0; d < n; d++) {
      const row = (k * n + d) * P;
      for (let q = 0; q < P; q++) {
        // (mean * scale)·W_standardised over block 0 is mean·W_raw.
        if (k === 0) shift[q]! += s.mean[d]! * kernel[row + q]!;
        kernel[row + q]! /= s.scale[d]!;
      }
    }
  const bias = Float32Array.from(w.get(`${prefix}/bias`)!, (v, q) => v + shift[q]!);
  return [
    [`${prefix}/kernel`, kernel],
    [`${prefix}/bias`, bias],
  ] as const;
}

/**
 * The kernel and bias of layer `prefix` (kernel [rowBlocks * n, P], n the statistics' length) on
 * raw inputs: block 0 (the inputs, or a stats head's means) takes the shift; every block takes the scales.
 */
function foldRows(w: HeadWeights, prefix: string, P: number, s: Pick<InputStats, 'mean' | 'scale'>, rowBlocks: number) {
  const kernel = w.get(`${prefix}/kernel`)!.slice();
  const shift = scaleRows(kernel, P, s, 0);
  for (let k = 1; k < rowBlocks; k++) scaleRows(kernel, P, s, k * s.mean.length);
  const bias = Float32Array.from(w.get(`${prefix}/bias`)!, (v, q) => v - shift[q]!);
  return [
    [`${prefix}/kernel`, kernel],
    [`${prefix}/bias`, bias],
  ] as const;
}

/**
 * The training forward's view of a stats head with pooled statistics: its trainable weights act on
 * the pooled-standardised statistics, so the head is handed kernel' = diag(scale) kernel and
 * bias' = bias - (mean * scale) kernel, as tensors the gradient flows through (foldInputStats's algebra).
 * Dropout, when set, then zeroes a raw statistic rather than a standardised one.
 */
export function pooledHeadTensors(p: Map<string, tf.Tensor>, pooled: { scale: tf.Tensor2D; shift: tf.Tensor2D }): Map<string, tf.Tensor> {
  const out = new Map(p);
  for (const prefix of ['cls', 'sub'] as const) {
    const kernel = p.get(`${prefix}/kernel`);
    if (!kernel) continue;
    out.set(`${prefix}/kernel`, tf.mul(kernel, pooled.scale));
    out.set(`${prefix}/bias`, tf.sub(p.get(`${prefix}/bias`)!, tf.reshape(tf.matMul(pooled.shift, kernel as tf.Tensor2D), [-1])));
  }
  return out;
}

/**
 * Scales rows first..first+D of kernel [*, P] (one per input dimension) in place by the scales;
 * returns (mean * scale)·W over those rows, W as they were.
 */
function scaleRows(kernel: Float32Array, P: number, s: Pick<InputStats, 'mean' | 'scale'>, first: number): Float64Array {
  const sum = new Float64Array(P);
  for (let d = 0; d < s.mean.length; d++) {
    const sd = s.scale[d]!;
    const ms = s.mean[d]! * sd;
    const row = (first + d) * P;
    for (let p = 0; p < P; p++) {
      sum[p]! += ms * kernel[row + p]!;
      kernel[row + p]! *= sd;
    }
  }
  return sum;
}
