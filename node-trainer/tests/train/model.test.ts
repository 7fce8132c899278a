import { describe, expect, it } from 'vitest';
import { headParamShapes } from '../../src/head/params.ts';
import { initBackend, tf } from '../../src/train/backend.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { initHeadWeights } from '../../src/train/init.ts';
import { headConfigFor } from '../../src/train/loop.ts';
import { headForward } from '../../src/train/model.ts';
import { focalLoss, focalLossJs } from '../../src/train/loss.ts';
import { dense, denseOnData, featureDropout, mixClips, mixupPairs, mm } from '../../src/train/ops.ts';
import { weightTensors } from '../../src/train/predict.ts';
import { Rng } from '../../src/train/rng.ts';

await initBackend();

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe('matmul with explicit-transpose gradients', () => {
  const rng = new Rng(11);
  const r = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.uniform(-1, 1)),
      shape,
    );
  for (const [a, b] of [
    [r([3, 4]), r([4, 5])],
    [r([2, 3, 4]), r([2, 4, 5])],
  ] as const)
    it(`matches tf.matMul's autodiff for ${a.shape.join('x')} · ${b.shape.join('x')}`, () => {
      const probe = r([...a.shape.slice(0, -1), b.shape.at(-1)!]);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x, y), probe)))([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), probe)))([a, b]);
      expect(maxAbsDiff(ours[0]!, ref[0]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(ours[1]!, ref[1]!)).toBeLessThan(1e-5);
    });

  it('denseOnData gives the same kernel and bias gradients as dense', () => {
    const x = r([6, 4]);
    const k = r([4, 3]);
    const bias = r([3]);
    const f = (d: typeof dense) => tf.grads((kk: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(d(x, kk, bb))))([k, bias]);
    const [a, b] = [f(dense), f(denseOnData)];
    expect(maxAbsDiff(a[0]!, b[0]!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(a[1]!, b[1]!)).toBeLessThan(1e-5);
  });
});

describe('head forward pass', () => {
  const c = headConfigFor(parseTrainConfig({ projDim: 8, lstmHidden: 4, lstmLayers: 2, attnHeads: 2, poolHidden: 5 }), 6);
  const w = initHeadWeights(c, new Rng(1));
  const p = weightTensors(c, w);
  const x = tf.randomUniform([3, 7, 6], -1, 1, 'float32', 2);

  it('gives logits [N,C], sub-logits [N,S] and attention over time that sums to 1', () => {
    const o = headForward(c, p, x);
    expect(o.logits.shape).toEqual([3, 4]);
    expect(o.subLogits!.shape).toEqual([3, c.subclasses]);
    expect(o.attention.shape).toEqual([3, 7]);
    for (const s of tf.sum(o.attention, 1).dataSync()) expect(s).toBeCloseTo(1, 5);
  });

  it('is deterministic without dropout, and dropout masks follow the seeded RNG', () => {
    expect(maxAbsDiff(headForward(c, p, x).logits, headForward(c, p, x).logits)).toBe(0);
    const a = headForward(c, p, x, new Rng(9)).logits;
    const b = headForward(c, p, x, new Rng(9)).logits;
    const other = headForward(c, p, x, new Rng(10)).logits;
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, other)).toBeGreaterThan(0);
  });

  it('initialises every parameter: Glorot kernels in range, forget-gate bias 1, LayerNorm 1/0', () => {
    for (const { name, shape } of headParamShapes(c)) expect(w.get(name)!.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    const b = w.get('lstm0/fw/bias')!;
    expect([...b.slice(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...b.slice(4, 8)]).toEqual([1, 1, 1, 1]);
    expect([...w.get('proj_ln/gamma')!]).toEqual(new Array(8).fill(1));
    const limit = Math.sqrt(6 / (6 + 8));
    const k = w.get('proj/kernel')!;
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(limit * 0.8);
  });
});

describe('input feature dropout (config inputDropout)', () => {
  it('zeroes whole dimensions per clip, the same in every frame, and scales the rest by 1/(1 - rate)', () => {
    const [b, t, d] = [6, 5, 400];
    const x = tf.ones([b, t, d]) as tf.Tensor3D;
    const y = featureDropout(x, 0.25, new Rng(4)).arraySync() as number[][][];
    let dropped = 0;
    for (let i = 0; i < b; i++)
      for (let k = 0; k < d; k++) {
        const v = y[i]![0]![k]!;
        expect([0, 1 / 0.75]).toContainEqual(expect.closeTo(v, 6));
        for (let f = 1; f < t; f++) expect(y[i]![f]![k]).toBe(v);
        if (v === 0) dropped++;
      }
    // 2,400 draws at rate 0.25: the share dropped is within a few percent of it.
    expect(dropped / (b * d)).toBeGreaterThan(0.21);
    expect(dropped / (b * d)).toBeLessThan(0.29);
    // Masks differ between clips; rate 0 or no RNG (validation) passes the batch through.
    expect(y[0]![0]).not.toEqual(y[1]![0]);
    expect(featureDropout(x, 0, new Rng(4))).toBe(x);
    expect(featureDropout(x, 0.5, null)).toBe(x);
    expect(parseTrainConfig({}).inputDropout).toBe(0);
    x.dispose();
  });
});

describe('mixup (config mixup)', () => {
  it('draws Beta(a, a) weights: symmetric about 1/2, U-shaped for small a', () => {
    const rng = new Rng(21);
    for (const [a, extremes] of [
      [1, 0.2],
      [0.2, 0.67],
    ] as const) {
      const draws = Array.from({ length: 4000 }, () => rng.betaSymmetric(a));
      expect(draws.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(Math.abs(draws.reduce((s, v) => s + v, 0) / draws.length - 0.5)).toBeLessThan(0.03);
      // Beta(1, 1) is uniform: 20% of draws below 0.1 or above 0.9; Beta(0.2, 0.2) about 67%.
      const share = draws.filter((v) => v < 0.1 || v > 0.9).length / draws.length;
      expect(share).toBeGreaterThan(extremes - 0.05);
      expect(share).toBeLessThan(extremes + 0.06);
    }
    expect(() => rng.betaSymmetric(0)).toThrow(RangeError);
    expect(() => rng.betaSymmetric(2)).toThrow(RangeError);
  });

  it('mixes each clip with a partner from a permutation of the batch, all frames with the same weight', () => {
    const [b, t, d] = [5, 3, 4];
    const values = Float32Array.from({ length: b * t * d }, (_, i) => (i % 7) + Math.floor(i / (t * d)) * 10);
    const x = tf.tensor3d(values, [b, t, d]);
    const m = mixupPairs(b, 0.4, new Rng(8));
    expect([...m.partner].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(m.partner).not.toEqual([0, 1, 2, 3, 4]);
    const y = mixClips(x, m).arraySync();
    const xs = x.arraySync();
    for (let i = 0; i < b; i++)
      for (let f = 0; f < t; f++)
        for (let k = 0; k < d; k++)
          expect(y[i]![f]![k]).toBeCloseTo(m.lambda[i]! * xs[i]![f]![k]! + (1 - m.lambda[i]!) * xs[m.partner[i]!]![f]![k]!, 4);
    x.dispose();
  });

  it("weights each row's focal loss, and unlabelled rows still do not count", () => {
    const rows = [
      [1, -0.5, 0.2, 0.1],
      [0.3, 2, -1, 0],
      [0, 0, 0, 3],
    ];
    const labels = [0, -1, 3];
    const w = Float32Array.from([0.25, 0.9, 0.6]);
    const got = focalLoss(tf.tensor2d(rows), labels, 2, 0.1, undefined, w).dataSync()[0]!;
    const row = (i: number) => focalLossJs([rows[i]!], [labels[i]!], 2, 0.1);
    expect(got).toBeCloseTo((0.25 * row(0) + 0.6 * row(2)) / 2, 5);
    expect(parseTrainConfig({}).mixup).toBe(0);
    expect(() => parseTrainConfig({ mixup: 1.5 })).toThrow();
  });
});
