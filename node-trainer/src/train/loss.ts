/**
 * Focal loss with label smoothing, as the original system: targets are 1-eps on the true class and
 * eps/(C-1) elsewhere; loss_i = -sum_c target_c * (1-p_c)^gamma * log p_c, averaged over the rows
 * that have a label (weight 1) — rows with weight 0 (e.g. no known subclass) do not count.
 */
import { tf } from './backend.ts';

/** Smoothed one-hot targets [N,C] as a plain array (exposed for tests). */
export function smoothedTargets(labels: ArrayLike<number>, classes: number, smoothing: number): Float32Array {
  const t = new Float32Array(labels.length * classes);
  const off = classes > 1 ? smoothing / (classes - 1) : 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    for (let c = 0; c < classes; c++) t[i * classes + c] = y < 0 ? 0 : c === y ? 1 - smoothing : off;
  }
  return t;
}

/**
 * Mean focal loss over labelled rows; label -1 = no label (row ignored). Returns a scalar (0 if no row
 * has a label). `denominator`: divide the sum by this instead of the labelled rows here (a shard of
 * a batch divides by the whole batch's count, so shard losses add up to the batch's; step.ts).
 * `weights`: each row's loss is multiplied by its weight (mixup's share of that row's label).
 */
export function focalLoss(
  logits: tf.Tensor,
  labels: ArrayLike<number>,
  gamma: number,
  smoothing: number,
  denominator?: number,
  weights?: Float32Array,
): tf.Scalar {
  const [n, classes] = logits.shape as [number, number];
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0) count++;
  // No labelled row (e.g. no clip in the batch has a subclass): a zero that stays connected to the
  // logits, so every parameter still gets a (zero) gradient instead of tfjs refusing the graph.
  if (count === 0) return tf.mul(tf.sum(logits), 0) as tf.Scalar;
  const target = tf.tensor2d(smoothedTargets(labels, classes, smoothing), [n, classes]);
  const logp = tf.logSoftmax(logits);
  // gamma 0 is plain cross-entropy; skipping pow avoids 0^-1 in its gradient when p = 1.
  const modulator = gamma === 0 ? tf.onesLike(logp) : tf.pow(tf.sub(1, tf.exp(logp)), gamma);
  let perRow = tf.neg(tf.sum(tf.mul(tf.mul(target, modulator), logp), -1));
  if (weights) perRow = tf.mul(perRow, tf.tensor1d(weights));
  return tf.div(tf.sum(perRow), denominator ?? count) as tf.Scalar;
}

/** The same loss in plain JS (float64) for evaluation and as a reference in tests. */
export function focalLossJs(logits: ArrayLike<number>[], labels: ArrayLike<number>, gamma: number, smoothing: number): number {
  let total = 0;
  let count = 0;
  logits.forEach((row, i) => {
    const y = labels[i]!;
    if (y < 0) return;
    const C = row.length;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, row[c]!);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(row[c]! - max);
    let l = 0;
    for (let c = 0; c < C; c++) {
      const logp = row[c]! - max - Math.log(z);
      const t = c === y ? 1 - smoothing : smoothing / (C - 1);
      l -= t * Math.pow(1 - Math.exp(logp), gamma) * logp;
    }
    total += l;
    count++;
  });
  return count ? total / count : 0;
}
