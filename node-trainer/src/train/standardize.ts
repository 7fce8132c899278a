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
import type { HeadConfig, HeadWeights } from '../head/params.ts';
import { tf } from './backend.ts';
import type { ClipSet } from './data.ts';

export interface InputStats {
  mean: Float32Array;
  /** 1 / sqrt(variance + floor). */
  scale: Float32Array;
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
  let meanVar = 0;
  for (let d = 0; d < D; d++) {
    const m = sum[d]! / n;
    mean[d] = m;
    variance[d] = Math.max(0, sq[d]! / n - m * m);
    meanVar += variance[d]! / D;
  }
  const floor = VARIANCE_FLOOR * meanVar || 1;
  const scale = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + floor));
  return { mean, scale };
}

/** x [.., D] -> (x - mean) * scale, as tensors (for the training forward pass). */
export function standardizeTensor(x: tf.Tensor, s: { mean: tf.Tensor1D; scale: tf.Tensor1D }): tf.Tensor {
  return tf.mul(tf.sub(x, s.mean), s.scale);
}

/** Weights that compute on raw inputs what `w` computes on standardised ones (see the file comment). */
export function foldInputStats(c: HeadConfig, w: HeadWeights, s: InputStats): HeadWeights {
  const D = c.featureDim;
  if (s.mean.length !== D || s.scale.length !== D) throw new Error(`input statistics have ${s.mean.length} dimensions, the head ${D}`);
  const fold = (prefix: string, P: number, rowBlocks: number) => {
    const kernel = w.get(`${prefix}/kernel`)!.slice();
    // Block 0 (the inputs, or a stats head's means) takes the shift; every block takes the scales.
    const shift = scaleRows(kernel, P, s, 0);
    for (let k = 1; k < rowBlocks; k++) scaleRows(kernel, P, s, k * D);
    const bias = Float32Array.from(w.get(`${prefix}/bias`)!, (v, p) => v - shift[p]!);
    return [
      [`${prefix}/kernel`, kernel],
      [`${prefix}/bias`, bias],
    ] as const;
  };
  if (c.kind === 'stats') return new Map([...w, ...fold('cls', c.classes, 2), ...(c.subclasses > 0 ? fold('sub', c.subclasses, 2) : [])]);
  return new Map([...w, ...fold('proj', c.projDim, 1)]);
}

/**
 * Scales rows first..first+D of kernel [*, P] (one per input dimension) in place by the scales;
 * returns (mean * scale)·W over those rows, W as they were.
 */
function scaleRows(kernel: Float32Array, P: number, s: InputStats, first: number): Float64Array {
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
