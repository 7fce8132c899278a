/**
 * Building blocks whose gradients avoid the wasm backend's slow paths (FACTS "Training in Node"):
 * tfjs's default MatMul gradient multiplies by transposed operands, which runs ~10x slower than a
 * plain matMul in wasm, so `mm` transposes explicitly (a cheap copy) and multiplies plainly.
 */
import { tf } from './backend.ts';
import type { Rng } from './rng.ts';

function transposeLast2(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? tf.transpose(t) : tf.transpose(t, [0, 2, 1]);
}

const mmOp = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const bt = transposeLast2(sb);
      const at = transposeLast2(sa);
      const da = tf.matMul(dy as tf.Tensor2D, bt as tf.Tensor2D);
      const db = tf.matMul(at as tf.Tensor2D, dy as tf.Tensor2D);
      bt.dispose();
      at.dispose();
      return [da, db];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;

// For a layer whose input needs no gradient (the features): skips the [N,D]x[D,P] input-gradient
// matmul, about 5% of a training step of the default head.
const mmNoInputGradOp = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const at = tf.transpose(saved[0]!);
      const db = tf.matMul(at as tf.Tensor2D, dy as tf.Tensor2D);
      at.dispose();
      return [tf.zerosLike(saved[0]!), db];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;

/** x·kernel + bias for an input that is data, not a function of parameters (its gradient is reported as 0). */
export function denseOnData(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return tf.add(mmNoInputGradOp(x, kernel), bias);
}

/** a·b for [M,K]x[K,N] or batched [N,M,K]x[N,K,N2], with a fast gradient. */
export function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return mmOp(a, b);
}

/** x·kernel + bias over the last axis of a 2-D input. */
export function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return tf.add(mm(x, kernel), bias);
}

/** LayerNorm over the last axis (biased variance, as torch and ONNX LayerNormalization). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** An inverted-dropout mask of n values drawn from our seeded Rng: 0 with probability `rate`, else 1/(1 - rate). */
function dropoutMask(n: number, rate: number, rng: Rng): Float32Array {
  const mask = new Float32Array(n);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < n; i++) mask[i] = rng.next() < rate ? 0 : keep;
  return mask;
}

/**
 * Drops whole feature dimensions of each clip: one mask per clip over the last axis of a [B, T, D]
 * batch, shared by all its frames (so the head cannot lean on a few dimensions of one source's
 * look; per-frame masks would mostly average out over T). Inverted scaling, like dropout.
 */
export function featureDropout(x: tf.Tensor3D, rate: number, rng: Rng | null): tf.Tensor3D {
  if (!rng || rate <= 0) return x;
  const [b, , d] = x.shape;
  return tf.mul(x, tf.tensor3d(dropoutMask(b * d, rate, rng), [b, 1, d]));
}

/** Inverted dropout with a mask drawn from our seeded Rng (tf.dropout's RNG cannot be seeded or checkpointed). */
export function dropout(x: tf.Tensor, rate: number, rng: Rng | null): tf.Tensor {
  if (!rng || rate <= 0) return x;
  return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, rng), x.shape));
}

/** Mixup partners of a batch of n clips: clip i is mixed with clip partner[i], keeping weight lambda[i]. */
export interface MixupPairs {
  partner: number[];
  lambda: Float32Array;
}

/** Draws mixup pairs: a random permutation of the batch, and one Beta(alpha, alpha) weight per clip. */
export function mixupPairs(n: number, alpha: number, rng: Rng): MixupPairs {
  const partner = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const lambda = Float32Array.from({ length: n }, () => rng.betaSymmetric(alpha));
  return { partner, lambda };
}

/** Mixup of a [B, T, D] batch: clip i becomes lambda_i x_i + (1 - lambda_i) x_partner(i), every frame alike. */
export function mixClips(x: tf.Tensor3D, m: MixupPairs): tf.Tensor3D {
  const lam = tf.tensor3d(m.lambda, [m.lambda.length, 1, 1]);
  return tf.add(tf.mul(x, lam), tf.mul(tf.gather(x, tf.tensor1d(m.partner, 'int32')), tf.sub(1, lam)));
}
