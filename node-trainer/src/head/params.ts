/**
 * The head of the original system, as a contract between training (tfjs), ONNX export and
 * checkpoints: its configuration, every parameter's name and shape, and the forward semantics.
 *
 * Forward pass (both tfjs and the exported ONNX graph compute exactly this):
 *   x [N,T,D] -> h = LayerNorm_eps1e-5(x·proj/kernel + proj/bias) * proj_ln/gamma + proj_ln/beta
 *   -> for each layer l: y = concat(forward LSTM(h), backward LSTM(h)) along features [N,T,2H]
 *      (Keras LSTM semantics: gates in column blocks i, f, c, o; i,f,o sigmoid, c tanh;
 *      c' = f*c + i*g; h' = o*tanh(c'); zero initial state; the backward direction runs on the
 *      time-reversed sequence and its outputs are reversed back)
 *   -> self-attention: Q,K,V = y·W+b; heads split the 2H features into `attnHeads` equal chunks;
 *      softmax(QK^T/sqrt(dk)) over keys; concat heads ·mhsa/o/kernel + mhsa/o/bias;
 *      z = LayerNorm(y + attn) with mhsa_ln/gamma, beta
 *   -> attention pooling: s_t = tanh(z_t·pool/kernel + pool/bias)·pool/score ([a,1]);
 *      alpha = softmax_t(s); p = sum_t alpha_t z_t
 *   -> logits = p·cls/kernel + cls/bias [N,C]; sub_logits = p·sub/kernel + sub/bias [N,S]
 * Outputs: logits [N,C], sub_logits [N,S], attention (alpha) [N,T]. Dropout is training-only.
 *
 * kind "stats" (a linear head on the clip's feature statistics over its frames):
 *   x [N,T,D] -> m = mean_t x_t, s = sqrt(mean_t (x_t - m)^2 + STATS_EPS) (per dimension)
 *   -> p = concat(m, s) [N,2D] -> logits = p·cls/kernel + cls/bias; sub_logits = p·sub/kernel + sub/bias
 *   attention (which frames drove the decision): with cls/kernel = [Km; Ks] (rows of m, then of s),
 *   frame t's own logits r_t = x_t·Km + ((x_t - m)^2 / s)·Ks satisfy mean_t r_t + cls/bias = logits
 *   (up to STATS_EPS), so frame t's support for the verdict is e_t = sum_c q_c (r_tc - mean_c' r_tc'),
 *   q = softmax(logits); attention = softmax_t(e_t).
 */
import { z } from 'zod';

export const HEAD_KINDS = ['attention', 'stats'] as const;

export const HeadConfigSchema = z.object({
  /** "attention": the original BiLSTM + self-attention + attention pooling; "stats": linear on per-clip mean and std. */
  kind: z.enum(HEAD_KINDS).default('attention'),
  featureDim: z.number().int().positive(),
  projDim: z.number().int().positive().default(256),
  lstmHidden: z.number().int().positive().default(128),
  lstmLayers: z.number().int().min(1).default(4),
  attnHeads: z.number().int().positive().default(4),
  poolHidden: z.number().int().positive().default(128),
  classes: z.number().int().positive().default(4),
  subclasses: z.number().int().min(0),
  dropout: z.number().min(0).max(0.9).default(0.3),
});
export type HeadConfig = z.infer<typeof HeadConfigSchema>;

export const LAYER_NORM_EPS = 1e-5;
/**
 * Added to the variance under the stats head's square root: keeps the gradient finite for a clip
 * whose frames are identical. Small enough that folding the input standardisation into the kernel
 * (which scales the square root instead of the variance) changes a logit by far less than 1e-3.
 */
export const STATS_EPS = 1e-12;

/** Every parameter of the head, in a fixed order, with its shape. */
export function headParamShapes(c: HeadConfig): Array<{ name: string; shape: number[] }> {
  if (c.kind === 'stats') {
    const S = 2 * c.featureDim;
    const p = [
      { name: 'cls/kernel', shape: [S, c.classes] },
      { name: 'cls/bias', shape: [c.classes] },
    ];
    if (c.subclasses > 0) p.push({ name: 'sub/kernel', shape: [S, c.subclasses] }, { name: 'sub/bias', shape: [c.subclasses] });
    return p;
  }
  const H = c.lstmHidden;
  const E = 2 * H;
  if (E % c.attnHeads !== 0) throw new RangeError(`2*lstmHidden (${E}) must be divisible by attnHeads (${c.attnHeads})`);
  const p: Array<{ name: string; shape: number[] }> = [
    { name: 'proj/kernel', shape: [c.featureDim, c.projDim] },
    { name: 'proj/bias', shape: [c.projDim] },
    { name: 'proj_ln/gamma', shape: [c.projDim] },
    { name: 'proj_ln/beta', shape: [c.projDim] },
  ];
  for (let l = 0; l < c.lstmLayers; l++) {
    const input = l === 0 ? c.projDim : E;
    for (const dir of ['fw', 'bw']) {
      p.push({ name: `lstm${l}/${dir}/kernel`, shape: [input, 4 * H] });
      p.push({ name: `lstm${l}/${dir}/recurrent`, shape: [H, 4 * H] });
      p.push({ name: `lstm${l}/${dir}/bias`, shape: [4 * H] });
    }
  }
  for (const m of ['q', 'k', 'v', 'o']) {
    p.push({ name: `mhsa/${m}/kernel`, shape: [E, E] });
    p.push({ name: `mhsa/${m}/bias`, shape: [E] });
  }
  p.push({ name: 'mhsa_ln/gamma', shape: [E] }, { name: 'mhsa_ln/beta', shape: [E] });
  p.push(
    { name: 'pool/kernel', shape: [E, c.poolHidden] },
    { name: 'pool/bias', shape: [c.poolHidden] },
    { name: 'pool/score', shape: [c.poolHidden, 1] },
  );
  p.push({ name: 'cls/kernel', shape: [E, c.classes] }, { name: 'cls/bias', shape: [c.classes] });
  if (c.subclasses > 0) p.push({ name: 'sub/kernel', shape: [E, c.subclasses] }, { name: 'sub/bias', shape: [c.subclasses] });
  return p;
}

/** Named float32 weights of a head. */
export type HeadWeights = Map<string, Float32Array>;

/** Checks that a weight map has exactly the parameters and sizes of the config. */
export function checkHeadWeights(c: HeadConfig, w: HeadWeights): void {
  const shapes = headParamShapes(c);
  for (const { name, shape } of shapes) {
    const t = w.get(name);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!t) throw new Error(`missing head parameter "${name}"`);
    if (t.length !== size) throw new Error(`head parameter "${name}" has ${t.length} values, expected ${size} (${shape.join('x')})`);
  }
  if (w.size !== shapes.length) {
    const extra = [...w.keys()].filter((k) => !shapes.some((s) => s.name === k));
    throw new Error(`unexpected head parameters: ${extra.join(', ')}`);
  }
}

/** Serialises weights as one little-endian float32 blob + an index (the checkpoint format). */
export function packHeadWeights(
  c: HeadConfig,
  w: HeadWeights,
): { index: Array<{ name: string; shape: number[]; offset: number }>; blob: Uint8Array } {
  checkHeadWeights(c, w);
  const shapes = headParamShapes(c);
  const total = shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const all = new Float32Array(total);
  const index: Array<{ name: string; shape: number[]; offset: number }> = [];
  let off = 0;
  for (const { name, shape } of shapes) {
    const t = w.get(name)!;
    all.set(t, off);
    index.push({ name, shape, offset: off });
    off += t.length;
  }
  return { index, blob: new Uint8Array(all.buffer) };
}

/** Inverse of packHeadWeights. */
export function unpackHeadWeights(
  c: HeadConfig,
  index: Array<{ name: string; shape: number[]; offset: number }>,
  blob: Uint8Array,
): HeadWeights {
  const all = new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  const w: HeadWeights = new Map();
  for (const { name, shape, offset } of index) w.set(name, all.slice(offset, offset + shape.reduce((a, b) => a * b, 1)));
  checkHeadWeights(c, w);
  return w;
}
