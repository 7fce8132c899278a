/**
 * The head's forward pass (params.ts semantics) in plain TypeScript with float64 accumulation:
 * slow and obviously correct, the reference that the exported ONNX graph (and tfjs) are checked
 * against. No dropout: inference only.
 */
import { LAYER_NORM_EPS, STATS_EPS, type HeadConfig, type HeadWeights } from './params.ts';

export interface HeadForwardOutput {
  /** [N, C] */
  logits: Float32Array;
  /** [N, S], or null for a head without subclasses. */
  subLogits: Float32Array | null;
  /** [N, T] attention-pooling weights. */
  attention: Float32Array;
}

type Seq = Float64Array[];

function dense(x: ArrayLike<number>, kernel: Float32Array, bias: Float32Array, outDim: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let j = 0; j < outDim; j++) y[j] = bias[j]!;
  for (let i = 0; i < inDim; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) y[j]! += xi * kernel[row + j]!;
  }
  return y;
}

function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(v / n + LAYER_NORM_EPS);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i]! - mean) * inv * gamma[i]! + beta[i]!;
  return y;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function softmaxInPlace(v: Float64Array): Float64Array {
  let m = -Infinity;
  for (const x of v) m = Math.max(m, x);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] = Math.exp(v[i]! - m);
  for (let i = 0; i < v.length; i++) v[i]! /= s;
  return v;
}

/** One LSTM direction over `xs` (Keras gate order i, f, c, o; zero initial state). */
function lstmDirection(xs: Seq, kernel: Float32Array, recurrent: Float32Array, bias: Float32Array, H: number, reverse: boolean): Seq {
  const T = xs.length;
  const out: Seq = new Array(T);
  let h = new Float64Array(H);
  const c = new Float64Array(H);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const z = dense(xs[t]!, kernel, bias, 4 * H);
    const zr = dense(h, recurrent, new Float32Array(4 * H), 4 * H);
    const hn = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[j]! + zr[j]!);
      const f = sigmoid(z[H + j]! + zr[H + j]!);
      const g = Math.tanh(z[2 * H + j]! + zr[2 * H + j]!);
      const o = sigmoid(z[3 * H + j]! + zr[3 * H + j]!);
      c[j] = f * c[j]! + i * g;
      hn[j] = o * Math.tanh(c[j]!);
    }
    h = hn;
    out[t] = h;
  }
  return out;
}

/** Runs the head on features x [N, T, D] (row-major). */
export function referenceForward(c: HeadConfig, w: HeadWeights, x: Float32Array, N: number, T: number): HeadForwardOutput {
  const P = (name: string) => {
    const t = w.get(name);
    if (!t) throw new Error(`missing head parameter "${name}"`);
    return t;
  };
  const D = c.featureDim;
  if (x.length !== N * T * D) throw new RangeError(`features hold ${x.length} values, expected ${N}x${T}x${D}`);
  if (c.kind === 'stats') return statsReference(c, P, x, N, T);
  const H = c.lstmHidden;
  const E = 2 * H;
  const nh = c.attnHeads;
  const dk = E / nh;
  const logits = new Float32Array(N * c.classes);
  const subLogits = c.subclasses > 0 ? new Float32Array(N * c.subclasses) : null;
  const attention = new Float32Array(N * T);

  for (let n = 0; n < N; n++) {
    let seq: Seq = [];
    for (let t = 0; t < T; t++) {
      const xt = x.subarray((n * T + t) * D, (n * T + t + 1) * D);
      seq.push(layerNorm(dense(xt, P('proj/kernel'), P('proj/bias'), c.projDim), P('proj_ln/gamma'), P('proj_ln/beta')));
    }
    for (let l = 0; l < c.lstmLayers; l++) {
      const fw = lstmDirection(seq, P(`lstm${l}/fw/kernel`), P(`lstm${l}/fw/recurrent`), P(`lstm${l}/fw/bias`), H, false);
      const bw = lstmDirection(seq, P(`lstm${l}/bw/kernel`), P(`lstm${l}/bw/recurrent`), P(`lstm${l}/bw/bias`), H, true);
      seq = seq.map((_, t) => {
        const y = new Float64Array(E);
        y.set(fw[t]!, 0);
        y.set(bw[t]!, H);
        return y;
      });
    }
    const q = seq.map((y) => dense(y, P('mhsa/q/kernel'), P('mhsa/q/bias'), E));
    const k = seq.map((y) => dense(y, P('mhsa/k/kernel'), P('mhsa/k/bias'), E));
    const v = seq.map((y) => dense(y, P('mhsa/v/kernel'), P('mhsa/v/bias'), E));
    const z = seq.map((y, t) => {
      const ctx = new Float64Array(E);
      for (let j = 0; j < nh; j++) {
        const scores = new Float64Array(T);
        for (let s = 0; s < T; s++) {
          let dot = 0;
          for (let d = j * dk; d < (j + 1) * dk; d++) dot += q[t]![d]! * k[s]![d]!;
          scores[s] = dot / Math.sqrt(dk);
        }
        softmaxInPlace(scores);
        for (let s = 0; s < T; s++) for (let d = j * dk; d < (j + 1) * dk; d++) ctx[d]! += scores[s]! * v[s]![d]!;
      }
      const attn = dense(ctx, P('mhsa/o/kernel'), P('mhsa/o/bias'), E);
      for (let d = 0; d < E; d++) attn[d]! += y[d]!;
      return layerNorm(attn, P('mhsa_ln/gamma'), P('mhsa_ln/beta'));
    });
    const score = P('pool/score');
    const s = new Float64Array(T);
    z.forEach((zt, t) => {
      const hid = dense(zt, P('pool/kernel'), P('pool/bias'), c.poolHidden);
      let acc = 0;
      for (let j = 0; j < c.poolHidden; j++) acc += Math.tanh(hid[j]!) * score[j]!;
      s[t] = acc;
    });
    const alpha = softmaxInPlace(s);
    const pooled = new Float64Array(E);
    z.forEach((zt, t) => {
      for (let d = 0; d < E; d++) pooled[d]! += alpha[t]! * zt[d]!;
    });
    logits.set(dense(pooled, P('cls/kernel'), P('cls/bias'), c.classes), n * c.classes);
    if (subLogits) subLogits.set(dense(pooled, P('sub/kernel'), P('sub/bias'), c.subclasses), n * c.subclasses);
    attention.set(alpha, n * T);
  }
  return { logits, subLogits, attention };
}

/** The "stats" head (params.ts), frame by frame in float64. */
function statsReference(c: HeadConfig, P: (name: string) => Float32Array, x: Float32Array, N: number, T: number): HeadForwardOutput {
  const D = c.featureDim;
  const C = c.classes;
  const kernel = P('cls/kernel');
  const logits = new Float32Array(N * C);
  const subLogits = c.subclasses > 0 ? new Float32Array(N * c.subclasses) : null;
  const attention = new Float32Array(N * T);
  for (let n = 0; n < N; n++) {
    const frame = (t: number) => x.subarray((n * T + t) * D, (n * T + t + 1) * D);
    const m = new Float64Array(D);
    for (let t = 0; t < T; t++) frame(t).forEach((v, d) => (m[d]! += v / T));
    const s = new Float64Array(D);
    for (let t = 0; t < T; t++) frame(t).forEach((v, d) => (s[d]! += (v - m[d]!) ** 2 / T));
    for (let d = 0; d < D; d++) s[d] = Math.sqrt(s[d]! + STATS_EPS);
    const stats = new Float64Array(2 * D);
    stats.set(m, 0);
    stats.set(s, D);
    const z = dense(stats, kernel, P('cls/bias'), C);
    logits.set(z, n * C);
    if (subLogits) subLogits.set(dense(stats, P('sub/kernel'), P('sub/bias'), c.subclasses), n * c.subclasses);
    const q = softmaxInPlace(Float64Array.from(z));
    const e = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const xt = frame(t);
      const r = new Float64Array(C);
      for (let d = 0; d < D; d++) {
        const dev = (xt[d]! - m[d]!) ** 2 / s[d]!;
        for (let k = 0; k < C; k++) r[k]! += xt[d]! * kernel[d * C + k]! + dev * kernel[(D + d) * C + k]!;
      }
      const mean = r.reduce((a, b) => a + b, 0) / C;
      for (let k = 0; k < C; k++) e[t]! += q[k]! * (r[k]! - mean);
    }
    attention.set(softmaxInPlace(e), n * T);
  }
  return { logits, subLogits, attention };
}
