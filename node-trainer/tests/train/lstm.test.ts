import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/train/backend.ts';
import { biLstm } from '../../src/train/lstm.ts';
import { Rng } from '../../src/train/rng.ts';

// The wasm backend must be live before the describe blocks build their tensors.
await initBackend();

const B = 3;
const T = 5;
const K = 4;
const H = 3;

function rand(rng: Rng, shape: number[], scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.uniform(-scale, scale)),
    shape,
  );
}

/** Keras-semantics LSTM built from plain tf ops, differentiated by tfjs autodiff: the reference. */
function referenceDirection(x: tf.Tensor, W: tf.Tensor, R: tf.Tensor, b: tf.Tensor, forward: boolean): tf.Tensor {
  let h: tf.Tensor = tf.zeros([B, H]);
  let c: tf.Tensor = tf.zeros([B, H]);
  const outs: tf.Tensor[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = forward ? s : T - 1 - s;
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [B, 1, K]), [B, K]);
    const z = tf.add(tf.add(tf.matMul(xt as tf.Tensor2D, W as tf.Tensor2D), tf.matMul(h as tf.Tensor2D, R as tf.Tensor2D)), b);
    const i = tf.sigmoid(tf.slice(z, [0, 0], [B, H]));
    const f = tf.sigmoid(tf.slice(z, [0, H], [B, H]));
    const g = tf.tanh(tf.slice(z, [0, 2 * H], [B, H]));
    const o = tf.sigmoid(tf.slice(z, [0, 3 * H], [B, H]));
    c = tf.add(tf.mul(f, c), tf.mul(i, g));
    h = tf.mul(o, tf.tanh(c));
    outs[t] = h;
  }
  return tf.stack(outs, 1);
}

describe('fused bidirectional LSTM', () => {
  const rng = new Rng(7);
  const inputs = [
    rand(rng, [B, T, K], 1),
    rand(rng, [K, 4 * H]),
    rand(rng, [H, 4 * H]),
    rand(rng, [4 * H]),
    rand(rng, [K, 4 * H]),
    rand(rng, [H, 4 * H]),
    rand(rng, [4 * H]),
  ];
  const probe = rand(rng, [B, T, 2 * H], 1);
  const fused = (...t: tf.Tensor[]) =>
    tf.sum(
      tf.mul(biLstm(t[0]!, { kernel: t[1]!, recurrent: t[2]!, bias: t[3]! }, { kernel: t[4]!, recurrent: t[5]!, bias: t[6]! }), probe),
    ) as tf.Scalar;
  const reference = (...t: tf.Tensor[]) =>
    tf.sum(
      tf.mul(
        tf.concat([referenceDirection(t[0]!, t[1]!, t[2]!, t[3]!, true), referenceDirection(t[0]!, t[4]!, t[5]!, t[6]!, false)], 2),
        probe,
      ),
    ) as tf.Scalar;

  it('matches the autodiff reference in value and in every gradient', () => {
    const a = tf.valueAndGrads(fused)(inputs);
    const r = tf.valueAndGrads(reference)(inputs);
    expect(a.value.dataSync()[0]).toBeCloseTo(r.value.dataSync()[0]!, 5);
    for (let k = 0; k < inputs.length; k++) {
      const ga = a.grads[k]!.dataSync();
      const gr = r.grads[k]!.dataSync();
      expect(ga.length).toBe(gr.length);
      let maxErr = 0;
      for (let i = 0; i < ga.length; i++) maxErr = Math.max(maxErr, Math.abs(ga[i]! - gr[i]!));
      expect(maxErr, `input ${k}`).toBeLessThan(1e-5);
    }
  });

  it('agrees with central finite differences', () => {
    const { grads } = tf.valueAndGrads(fused)(inputs);
    const probeRng = new Rng(3);
    for (let k = 0; k < inputs.length; k++) {
      const base = inputs[k]!.dataSync() as Float32Array;
      const g = grads[k]!.dataSync();
      for (let n = 0; n < 3; n++) {
        const i = Math.floor(probeRng.next() * base.length);
        const eps = 1e-2;
        const at = (delta: number) => {
          const d = base.slice();
          d[i]! += delta;
          const moved = inputs.map((t, j) => (j === k ? tf.tensor(d, t.shape) : t));
          return fused(...moved).dataSync()[0]!;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        expect(Math.abs(numeric - g[i]!), `input ${k}[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
});
