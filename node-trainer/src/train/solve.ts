/**
 * `"solver": "lbfgs"` (stats head only). A stats head is one linear layer on each clip's statistics
 * vector, so its training is a smooth convex problem with focal γ 0 (multinomial logistic regression
 * with label smoothing, plus the `l2` penalty): full-batch L-BFGS (lbfgs.ts) solves it to the
 * optimum, from zero weights, with no batches, learning rate, schedule or seed. The statistics are
 * computed once, at the `trainFrames` bin-centre frames (no jitter), standardised as training would
 * (`standardize`, `poolStandardize`), and the solved weights are folded back onto raw features as
 * AdamW training's are.
 *
 * Why: on the default corpus's cross-validation folds, a numpy probe solving this problem exactly
 * (scipy's L-BFGS-B) scored pooled macro-F1 0.745 against 0.726-0.736 for the shipped AdamW recipe.
 * This solver, with trainOnVal, scored 0.738 there against 0.733 ± 0.006 for that recipe (both at
 * the other folds' temperature; node-trainer/corpus/MODEL_HISTORY.md, 2026-11-29).
 */
import type { HeadConfig } from '../head/params.ts';
import { tf } from './backend.ts';
import type { TrainConfig } from './config.ts';
import type { ClipSet } from './data.ts';
import { lbfgs } from './lbfgs.ts';
import { focalLoss } from './loss.ts';
import { forEachClipStatistics, identityStats, type InputStats } from './standardize.ts';

/** Settings the solver has no use for: refused when set, so a config never silently means less than it says. */
const NOT_FOR_SOLVER = ['dropout', 'inputDropout', 'mixup', 'sourceBalance', 'classBalance'] as const;

/** Throws where the config asks the solver for what it cannot do. */
export function checkSolverConfig(c: TrainConfig, head: HeadConfig): void {
  if (head.kind !== 'stats') throw new RangeError('"solver": "lbfgs" is for the stats head ("head": "stats")');
  const set = NOT_FOR_SOLVER.find((k) => c[k] !== 0);
  if (set) throw new RangeError(`"solver": "lbfgs" trains on every clip at once, without "${set}"; set it to 0`);
}

/**
 * Every clip's statistics vector [N, 2D] as the head's trainable weights see it: per-frame
 * standardised by `stats` (if any), then by `stats.pooled` (if any).
 */
export function statisticsMatrix(set: ClipSet, stats: InputStats | null, frames: number): Float32Array {
  const D = set.dim;
  const out = new Float32Array(set.half.length * 2 * D);
  const pooled = stats?.pooled;
  forEachClipStatistics(set, stats ?? identityStats(D), frames, (i, m, sd) => {
    const row = i * 2 * D;
    for (let d = 0; d < D; d++) {
      out[row + d] = m[d]!;
      out[row + D + d] = sd[d]!;
    }
    if (pooled) for (let j = 0; j < 2 * D; j++) out[row + j] = (out[row + j]! - pooled.mean[j]!) * pooled.scale[j]!;
  });
  return out;
}

export interface SolveOptions {
  head: HeadConfig;
  c: TrainConfig;
  set: ClipSet;
  stats: InputStats | null;
  /** The head's parameter names and shapes, in the order of the returned arrays (params.ts). */
  names: string[];
  shapes: number[][];
  /** After each iteration, with the weights (standardised space, in `names` order); false stops. */
  onIteration: (it: { iteration: number; loss: number; step: number; params: Float32Array[] }) => boolean;
}

/** Solves the head's weights (on the standardised statistics); `reason` says why it ended. */
export function solveStatsHead(o: SolveOptions): { params: Float32Array[]; iterations: number; reason: string } {
  const { head, c, set } = o;
  const N = set.half.length;
  const S = 2 * set.dim;
  const sizes = o.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const total = sizes.reduce((a, b) => a + b, 0);
  const split = (x: Float64Array) => sizes.map((n, i) => Float32Array.from(x.subarray(offsets[i]!, offsets[i]! + n)));
  const Z = tf.tensor2d(statisticsMatrix(set, o.stats, c.trainFrames ?? set.frames), [N, S]);
  try {
    const objective = tf.valueAndGrads((...w: tf.Tensor[]) => {
      const p = new Map(o.names.map((n, i) => [n, w[i]!]));
      const dense = (prefix: string) => tf.add(tf.matMul(Z, p.get(`${prefix}/kernel`)! as tf.Tensor2D), p.get(`${prefix}/bias`)!);
      let loss = focalLoss(dense('cls'), set.labels, c.focalGamma, c.labelSmoothing);
      if (head.subclasses > 0 && c.subclassWeight > 0)
        loss = tf.add(loss, tf.mul(c.subclassWeight, focalLoss(dense('sub'), set.subLabels, c.focalGamma, c.labelSmoothing)));
      // The l2 penalty on the kernels (train/optim.ts's coupled one: l2 · |W|²), not on the biases.
      for (const n of o.names) if (n.endsWith('/kernel') && c.l2 > 0) loss = tf.add(loss, tf.mul(c.l2, tf.sum(tf.square(p.get(n)!))));
      return loss as tf.Scalar;
    });
    const evaluate = (x: Float64Array) => {
      const out = tf.tidy(() => {
        const r = objective(split(x).map((a, i) => tf.tensor(a, o.shapes[i])));
        return [r.value, ...r.grads];
      });
      const g = new Float64Array(total);
      out.slice(1).forEach((t, i) => g.set(t.dataSync(), offsets[i]!));
      const f = out[0]!.dataSync()[0]!;
      tf.dispose(out);
      return { f, g };
    };
    const r = lbfgs(evaluate, new Float64Array(total), {
      maxIterations: c.epochs,
      onIteration: (it) => o.onIteration({ iteration: it.iteration, loss: it.f, step: it.step, params: split(it.x) }),
    });
    return { params: split(r.x), iterations: r.iterations, reason: r.reason };
  } finally {
    Z.dispose();
  }
}
