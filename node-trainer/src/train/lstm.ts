/**
 * One bidirectional LSTM layer as a single fused op with hand-written backprop through time.
 *
 * Why fused (FACTS "Training in Node"): an autodiff LSTM in tfjs-wasm slices the input per time
 * step (each Slice copies the whole tensor), and does one small weight-gradient matmul per step.
 * Here the input projections of all T steps are one matmul per direction, the per-step work is one
 * [B,H]x[H,4H] matmul plus the gate arithmetic in JS on typed arrays, and the weight gradients are
 * one matmul each over all steps, with explicitly transposed operands (plain matmuls are fast).
 *
 * Semantics = Keras LSTM (params.ts): gate column blocks i, f, c(g), o; zero initial state; the
 * backward direction reads the sequence from the end and writes its outputs back in time order.
 * Output [B,T,2H] = concat(forward, backward) along features.
 */
import { tf } from './backend.ts';

interface DirCache {
  /** Gate activations i,f,g,o per processing step s and batch row b: [(s*B+b)*4H + ...]. */
  act: Float32Array;
  /** Cell state and tanh(cell) after step s: [(s*B+b)*H + j]. */
  c: Float32Array;
  tc: Float32Array;
  /** Hidden state after step s. */
  h: Float32Array;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function runDirection(
  xp: Float32Array,
  bias: Float32Array,
  R: tf.Tensor2D,
  B: number,
  T: number,
  H: number,
  forward: boolean,
  out: Float32Array,
  outOffset: number,
): DirCache {
  const G = 4 * H;
  const act = new Float32Array(T * B * G);
  const c = new Float32Array(T * B * H);
  const tc = new Float32Array(T * B * H);
  const h = new Float32Array(T * B * H);
  let rec: Float32Array | null = null;
  for (let s = 0; s < T; s++) {
    const t = forward ? s : T - 1 - s;
    if (s > 0) {
      const hPrev = tf.tensor2d(h.slice((s - 1) * B * H, s * B * H), [B, H]);
      const r = tf.matMul(hPrev, R);
      rec = r.dataSync() as Float32Array;
      hPrev.dispose();
      r.dispose();
    }
    for (let b = 0; b < B; b++) {
      const xBase = (b * T + t) * G;
      const rBase = b * G;
      const aBase = (s * B + b) * G;
      const sBase = (s * B + b) * H;
      const pBase = ((s - 1) * B + b) * H;
      const oBase = (b * T + t) * 2 * H + outOffset;
      for (let j = 0; j < H; j++) {
        let zi = xp[xBase + j]! + bias[j]!;
        let zf = xp[xBase + H + j]! + bias[H + j]!;
        let zg = xp[xBase + 2 * H + j]! + bias[2 * H + j]!;
        let zo = xp[xBase + 3 * H + j]! + bias[3 * H + j]!;
        if (rec) {
          zi += rec[rBase + j]!;
          zf += rec[rBase + H + j]!;
          zg += rec[rBase + 2 * H + j]!;
          zo += rec[rBase + 3 * H + j]!;
        }
        const i = sigmoid(zi);
        const f = sigmoid(zf);
        const g = Math.tanh(zg);
        const o = sigmoid(zo);
        const cPrev = s > 0 ? c[pBase + j]! : 0;
        const cn = f * cPrev + i * g;
        const tcn = Math.tanh(cn);
        const hn = o * tcn;
        act[aBase + j] = i;
        act[aBase + H + j] = f;
        act[aBase + 2 * H + j] = g;
        act[aBase + 3 * H + j] = o;
        c[sBase + j] = cn;
        tc[sBase + j] = tcn;
        h[sBase + j] = hn;
        out[oBase + j] = hn;
      }
    }
  }
  return { act, c, tc, h };
}

/** Backprop through time for one direction; returns dGates [B*T, 4H] and the previous hidden states H_prev [B*T, H] (rows b*T+t). */
function backDirection(
  cache: DirCache,
  dy: Float32Array,
  RT: tf.Tensor2D,
  B: number,
  T: number,
  H: number,
  forward: boolean,
  dyOffset: number,
): { dG: Float32Array; hPrev: Float32Array } {
  const G = 4 * H;
  const { act, c, tc, h } = cache;
  const dG = new Float32Array(B * T * G);
  const dgStep = new Float32Array(B * G);
  const hPrev = new Float32Array(B * T * H);
  const dcRec = new Float32Array(B * H);
  let dhRec: Float32Array | null = null;
  for (let s = T - 1; s >= 0; s--) {
    const t = forward ? s : T - 1 - s;
    for (let b = 0; b < B; b++) {
      const aBase = (s * B + b) * G;
      const sBase = (s * B + b) * H;
      const pBase = ((s - 1) * B + b) * H;
      const yBase = (b * T + t) * 2 * H + dyOffset;
      const gBase = (b * T + t) * G;
      for (let j = 0; j < H; j++) {
        const dh = dy[yBase + j]! + (dhRec ? dhRec[b * H + j]! : 0);
        const i = act[aBase + j]!;
        const f = act[aBase + H + j]!;
        const g = act[aBase + 2 * H + j]!;
        const o = act[aBase + 3 * H + j]!;
        const tcv = tc[sBase + j]!;
        const cPrev = s > 0 ? c[pBase + j]! : 0;
        const dc = dh * o * (1 - tcv * tcv) + dcRec[b * H + j]!;
        const di = dc * g * i * (1 - i);
        const df = dc * cPrev * f * (1 - f);
        const dg = dc * i * (1 - g * g);
        const dO = dh * tcv * o * (1 - o);
        dcRec[b * H + j] = dc * f;
        dgStep[b * G + j] = di;
        dgStep[b * G + H + j] = df;
        dgStep[b * G + 2 * H + j] = dg;
        dgStep[b * G + 3 * H + j] = dO;
        dG[gBase + j] = di;
        dG[gBase + H + j] = df;
        dG[gBase + 2 * H + j] = dg;
        dG[gBase + 3 * H + j] = dO;
        // Row-major writes (a strided transpose here thrashes the cache; tf.transpose does it later).
        if (s > 0) hPrev[(b * T + t) * H + j] = h[pBase + j]!;
      }
    }
    if (s > 0) {
      const d = tf.tensor2d(dgStep, [B, G]);
      const r = tf.matMul(d, RT);
      dhRec = r.dataSync() as Float32Array;
      d.dispose();
      r.dispose();
    }
  }
  return { dG, hPrev };
}

function columnSums(m: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) acc[k]! += m[r * cols + k]!;
  return Float32Array.from(acc);
}

const biLstmOp = tf.customGrad(((...args: unknown[]) => {
  const [x, wf, rf, bf, wb, rb, bb] = args as tf.Tensor[] as [
    tf.Tensor3D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor1D,
  ];
  const save = args[7] as tf.GradSaveFunc;
  const [B, T, K] = x.shape;
  const H = rf.shape[0];
  const G = 4 * H;
  save([x, wf, rf, wb, rb]);
  const out = new Float32Array(B * T * 2 * H);
  const x2 = tf.reshape(x, [B * T, K]) as tf.Tensor2D;
  const pF = tf.matMul(x2, wf);
  const pB = tf.matMul(x2, wb);
  const xpF = pF.dataSync() as Float32Array;
  const xpB = pB.dataSync() as Float32Array;
  x2.dispose();
  pF.dispose();
  pB.dispose();
  const caches = [
    runDirection(xpF, bf.dataSync() as Float32Array, rf, B, T, H, true, out, 0),
    runDirection(xpB, bb.dataSync() as Float32Array, rb, B, T, H, false, out, H),
  ];
  return {
    value: tf.tensor3d(out, [B, T, 2 * H]),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, swf, srf, swb, srb] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const dyD = dy.dataSync() as Float32Array;
      const x2 = tf.reshape(sx, [B * T, K]) as tf.Tensor2D;
      const x2T = tf.transpose(x2);
      const grads: tf.Tensor[] = [];
      let dx: tf.Tensor | null = null;
      const dirs: Array<[DirCache, tf.Tensor2D, tf.Tensor2D, boolean, number]> = [
        [caches[0]!, swf, srf, true, 0],
        [caches[1]!, swb, srb, false, H],
      ];
      for (const [cache, W, R, forward, off] of dirs) {
        const RT = tf.transpose(R);
        const { dG, hPrev } = backDirection(cache, dyD, RT, B, T, H, forward, off);
        RT.dispose();
        const dGt = tf.tensor2d(dG, [B * T, G]);
        const WT = tf.transpose(W);
        const dxPart = tf.matMul(dGt, WT);
        WT.dispose();
        if (dx) {
          const sum: tf.Tensor = tf.add(dx, dxPart);
          dx.dispose();
          dxPart.dispose();
          dx = sum;
        } else dx = dxPart;
        const hp = tf.tensor2d(hPrev, [B * T, H]);
        const hpT = tf.transpose(hp);
        grads.push(tf.matMul(x2T, dGt), tf.matMul(hpT, dGt), tf.tensor1d(columnSums(dG, B * T, G)));
        hp.dispose();
        hpT.dispose();
        dGt.dispose();
      }
      x2T.dispose();
      x2.dispose();
      const dx3 = tf.reshape(dx!, [B, T, K]);
      dx!.dispose();
      return [dx3, ...grads];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor3D;

/** Bidirectional LSTM layer: x [B,T,K] -> [B,T,2H]. Differentiable (fused BPTT). */
export function biLstm(
  x: tf.Tensor,
  fw: { kernel: tf.Tensor; recurrent: tf.Tensor; bias: tf.Tensor },
  bw: { kernel: tf.Tensor; recurrent: tf.Tensor; bias: tf.Tensor },
): tf.Tensor3D {
  return biLstmOp(x, fw.kernel, fw.recurrent, fw.bias, bw.kernel, bw.recurrent, bw.bias);
}
