/** The head's forward pass in tfjs, exactly as specified in ../head/params.ts, plus training-only dropout. */
import { LAYER_NORM_EPS, STATS_EPS, type HeadConfig } from '../head/params.ts';
import { tf } from './backend.ts';
import { biLstm } from './lstm.ts';
import { dense, denseOnData, dropout, layerNorm, mm } from './ops.ts';
import type { Rng } from './rng.ts';

export type HeadTensors = Map<string, tf.Tensor>;

export interface HeadOutputs {
  logits: tf.Tensor2D;
  subLogits: tf.Tensor2D | null;
  attention: tf.Tensor2D;
}

/** A training pass's outputs: a stats head leaves out its attention there (training reads the logits alone). */
export type TrainingOutputs = Omit<HeadOutputs, 'attention'> & { attention: tf.Tensor2D | null };

/**
 * x [N,T,D] -> logits [N,C], subLogits [N,S] (or null), attention [N,T].
 * With `dropoutRng` (training), dropout at rate c.dropout after the input projection, between LSTM
 * layers (as torch's LSTM dropout) and on the pooled vector; without it the pass is deterministic.
 */
export function headForward(c: HeadConfig, p: HeadTensors, x: tf.Tensor, dropoutRng?: null): HeadOutputs;
export function headForward(c: HeadConfig, p: HeadTensors, x: tf.Tensor, dropoutRng: Rng | null): TrainingOutputs;
export function headForward(c: HeadConfig, p: HeadTensors, x: tf.Tensor, dropoutRng: Rng | null = null): TrainingOutputs {
  const P = (name: string) => {
    const t = p.get(name);
    if (!t) throw new Error(`missing head parameter "${name}"`);
    return t;
  };
  if (c.kind === 'stats') return statsForward(c, P, x, dropoutRng);
  const [N, T, D] = x.shape as [number, number, number];
  const E = 2 * c.lstmHidden;
  const nh = c.attnHeads;
  const dk = E / nh;

  let h = denseOnData(tf.reshape(x, [N * T, D]), P('proj/kernel'), P('proj/bias'));
  h = layerNorm(h, P('proj_ln/gamma'), P('proj_ln/beta'), LAYER_NORM_EPS);
  h = dropout(h, c.dropout, dropoutRng);
  let y: tf.Tensor = tf.reshape(h, [N, T, c.projDim]);
  for (let l = 0; l < c.lstmLayers; l++) {
    const dir = (d: string) => ({
      kernel: P(`lstm${l}/${d}/kernel`),
      recurrent: P(`lstm${l}/${d}/recurrent`),
      bias: P(`lstm${l}/${d}/bias`),
    });
    y = biLstm(y, dir('fw'), dir('bw'));
    if (l < c.lstmLayers - 1) y = dropout(y, c.dropout, dropoutRng);
  }

  // Multi-head self-attention with residual + LayerNorm. K is laid out [.., dk, T] directly so the
  // score matmul needs no transposed operand.
  const y2 = tf.reshape(y, [N * T, E]);
  const q = tf.reshape(tf.transpose(tf.reshape(dense(y2, P('mhsa/q/kernel'), P('mhsa/q/bias')), [N, T, nh, dk]), [0, 2, 1, 3]), [
    N * nh,
    T,
    dk,
  ]);
  const k = tf.reshape(tf.transpose(tf.reshape(dense(y2, P('mhsa/k/kernel'), P('mhsa/k/bias')), [N, T, nh, dk]), [0, 2, 3, 1]), [
    N * nh,
    dk,
    T,
  ]);
  const v = tf.reshape(tf.transpose(tf.reshape(dense(y2, P('mhsa/v/kernel'), P('mhsa/v/bias')), [N, T, nh, dk]), [0, 2, 1, 3]), [
    N * nh,
    T,
    dk,
  ]);
  const weights = tf.softmax(tf.mul(mm(q, k), 1 / Math.sqrt(dk)));
  const ctx = tf.reshape(tf.transpose(tf.reshape(mm(weights, v), [N, nh, T, dk]), [0, 2, 1, 3]), [N * T, E]);
  const attn = dense(ctx, P('mhsa/o/kernel'), P('mhsa/o/bias'));
  const z = layerNorm(tf.add(y2, attn), P('mhsa_ln/gamma'), P('mhsa_ln/beta'), LAYER_NORM_EPS);

  // Attention pooling over time.
  const s = mm(tf.tanh(dense(z, P('pool/kernel'), P('pool/bias'))), P('pool/score'));
  const alpha = tf.softmax(tf.reshape(s, [N, T])) as tf.Tensor2D;
  let pooled: tf.Tensor = tf.reshape(mm(tf.reshape(alpha, [N, 1, T]), tf.reshape(z, [N, T, E])), [N, E]);
  pooled = dropout(pooled, c.dropout, dropoutRng);

  const logits = dense(pooled, P('cls/kernel'), P('cls/bias')) as tf.Tensor2D;
  const subLogits = c.subclasses > 0 ? (dense(pooled, P('sub/kernel'), P('sub/bias')) as tf.Tensor2D) : null;
  return { logits, subLogits, attention: alpha };
}

/** The "stats" head (params.ts): dropout at rate c.dropout on the statistics vector in training. */
function statsForward(c: HeadConfig, P: (name: string) => tf.Tensor, x: tf.Tensor, dropoutRng: Rng | null): TrainingOutputs {
  const [N, T, D] = x.shape as [number, number, number];
  const m = tf.mean(x, 1, true); // [N,1,D]
  const dev = tf.square(tf.sub(x, m)); // [N,T,D]
  const s = tf.sqrt(tf.add(tf.mean(dev, 1, true), STATS_EPS)); // [N,1,D]
  let stats: tf.Tensor = tf.reshape(tf.concat([m, s], 2), [N, 2 * D]);
  stats = dropout(stats, c.dropout, dropoutRng);
  const logits = denseOnData(stats, P('cls/kernel'), P('cls/bias')) as tf.Tensor2D;
  const subLogits = c.subclasses > 0 ? (denseOnData(stats, P('sub/kernel'), P('sub/bias')) as tf.Tensor2D) : null;

  // Which frames drove the decision, at inference only: frame t's own logits r_t = [x_t, dev_t / s]·cls/kernel.
  const attention = dropoutRng
    ? null
    : tf.tidy(() => {
        const r = tf.matMul(tf.reshape(tf.concat([x, tf.div(dev, s)], 2), [N * T, 2 * D]), P('cls/kernel')); // [N*T, C]
        const rc = tf.sub(r, tf.mean(r, 1, true));
        const q = tf.softmax(logits); // [N, C]
        const e = tf.reshape(tf.matMul(tf.reshape(rc, [N, T, c.classes]), tf.reshape(q, [N, c.classes, 1])), [N, T]);
        return tf.softmax(e) as tf.Tensor2D;
      });
  return { logits, subLogits, attention };
}
