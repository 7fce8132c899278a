import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/train/backend.ts';
import { focalLoss, focalLossJs } from '../../src/train/loss.ts';
import { adamWStep, clipByGlobalNorm, decaysParam, newAdamWState } from '../../src/train/optim.ts';
import { cosineWarmRestartLr } from '../../src/train/schedule.ts';

await initBackend();

describe('focal loss with label smoothing', () => {
  // logits [0, ln 3] -> p = [1/4, 3/4]; label 1; smoothing 0.1 -> targets [0.1, 0.9]; gamma 2.
  const handValue = 0.1 * 0.75 ** 2 * Math.log(4) + 0.9 * 0.25 ** 2 * Math.log(4 / 3);

  it('matches the hand-computed value (tfjs and JS)', () => {
    expect(handValue).toBeCloseTo(0.094161, 5);
    expect(focalLoss(tf.tensor2d([[0, Math.log(3)]]), [1], 2, 0.1).dataSync()[0]).toBeCloseTo(handValue, 6);
    expect(focalLossJs([[0, Math.log(3)]], [1], 2, 0.1)).toBeCloseTo(handValue, 10);
  });

  it('is cross-entropy at gamma 0 without smoothing, and its gradient is softmax minus one-hot', () => {
    const logits = tf.tensor2d([[0, Math.log(3)]]);
    expect(focalLoss(logits, [1], 0, 0).dataSync()[0]).toBeCloseTo(-Math.log(0.75), 6);
    const g = tf
      .grad((l: tf.Tensor) => focalLoss(l, [1], 0, 0))(logits)
      .dataSync();
    expect(g[0]).toBeCloseTo(0.25, 6);
    expect(g[1]).toBeCloseTo(-0.25, 6);
  });

  it('averages over labelled rows only (label -1 is ignored)', () => {
    const rows = [
      [0, Math.log(3)],
      [5, -5],
    ];
    expect(focalLoss(tf.tensor2d(rows), [1, -1], 2, 0.1).dataSync()[0]).toBeCloseTo(handValue, 6);
    expect(focalLossJs(rows, [1, -1], 2, 0.1)).toBeCloseTo(handValue, 10);
    expect(focalLoss(tf.tensor2d(rows), [-1, -1], 2, 0.1).dataSync()[0]).toBe(0);
  });

  it('gives a zero gradient, not an error, when no row is labelled (no subclass labels at all)', () => {
    const g = tf
      .grad((l: tf.Tensor) => focalLoss(l, [-1, -1], 2, 0.1))(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      )
      .dataSync();
    expect([...g]).toEqual([0, 0, 0, 0]);
  });
});

describe('AdamW', () => {
  const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  it('takes two hand-computed steps, decaying only where asked', () => {
    const p = [Float32Array.of(1), Float32Array.of(1)];
    const s = newAdamWState(p);
    adamWStep(p, [Float32Array.of(0.5), Float32Array.of(0.5)], s, 0.1, o, [true, false]);
    // m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25: step lr*0.5/0.5 = 0.1; decay 1 - 0.1*0.01.
    expect(p[0]![0]).toBeCloseTo(1 * 0.999 - 0.1, 6);
    expect(p[1]![0]).toBeCloseTo(0.9, 6);
    adamWStep(p, [Float32Array.of(-0.5), Float32Array.of(-0.5)], s, 0.1, o, [true, false]);
    // m = -0.005, v = 0.00049975; mhat = -0.005/0.19, vhat = 0.00049975/0.001999 = 0.25.
    const step2 = (0.1 * (-0.005 / 0.19)) / Math.sqrt(0.00049975 / (1 - 0.999 ** 2));
    expect(p[0]![0]).toBeCloseTo(0.899 * 0.999 - step2, 6);
    expect(p[1]![0]).toBeCloseTo(0.9 - step2, 6);
    expect(s.step).toBe(2);
  });

  it('adds the coupled L2 gradient 2*l2*p before the moments, only where asked', () => {
    const p = [Float32Array.of(1), Float32Array.of(1)];
    const s = newAdamWState(p);
    // g = 0.5 + 2 * 0.25 * 1 = 1 on the first parameter: m = 0.1, v = 0.001, mhat = 1, vhat = 1.
    adamWStep(p, [Float32Array.of(0.5), Float32Array.of(0.5)], s, 0.1, { ...o, weightDecay: 0, l2: 0.25 }, [true, false]);
    expect(p[0]![0]).toBeCloseTo(0.9, 6);
    expect(p[1]![0]).toBeCloseTo(0.9, 6);
    // The step is Adam's on the penalised loss, so a second step differs from the plain one.
    adamWStep(p, [Float32Array.of(-0.5), Float32Array.of(-0.5)], s, 0.1, { ...o, weightDecay: 0, l2: 0.25 }, [true, false]);
    // g0 = -0.5 + 0.5 * 0.9 = -0.05: m = 0.09 - 0.005 = 0.085, v = 0.000999 + 0.0000025.
    const m = 0.085 / 0.19;
    const v = (0.000999 + 0.001 * 0.0025) / (1 - 0.999 ** 2);
    expect(p[0]![0]).toBeCloseTo(0.9 - (0.1 * m) / Math.sqrt(v), 5);
  });

  it('with l2, converges to the minimum of the penalised loss (ridge), not of the loss', () => {
    // loss (p - 3)^2, gradient 2(p - 3); with l2 0.5 the minimum of (p - 3)^2 + 0.5 p^2 is p = 2.
    for (const [l2, want] of [
      [0, 3],
      [0.5, 2],
    ] as const) {
      const p = [Float32Array.of(0)];
      const s = newAdamWState(p);
      for (let i = 0; i < 3000; i++) adamWStep(p, [Float32Array.of(2 * (p[0]![0]! - 3))], s, 0.01, { ...o, weightDecay: 0, l2 }, [true]);
      expect(p[0]![0]).toBeCloseTo(want, 2);
    }
  });

  it('decays kernels and recurrent matrices, not biases or LayerNorm', () => {
    expect(decaysParam('lstm0/fw/kernel')).toBe(true);
    expect(decaysParam('lstm0/fw/recurrent')).toBe(true);
    expect(decaysParam('pool/score')).toBe(true);
    expect(decaysParam('lstm0/fw/bias')).toBe(false);
    expect(decaysParam('proj_ln/gamma')).toBe(false);
  });
});

describe('global-norm clipping', () => {
  it('scales [3] and [4] (norm 5) to norm 1', () => {
    const g = [Float32Array.of(3), Float32Array.of(4)];
    expect(clipByGlobalNorm(g, 1)).toBeCloseTo(5, 6);
    expect(g[0]![0]).toBeCloseTo(0.6, 5);
    expect(g[1]![0]).toBeCloseTo(0.8, 5);
  });
  it('leaves gradients under the limit alone', () => {
    const g = [Float32Array.of(0.3), Float32Array.of(0.4)];
    clipByGlobalNorm(g, 1);
    expect([g[0]![0], g[1]![0]]).toEqual([Float32Array.of(0.3)[0], Float32Array.of(0.4)[0]]);
  });
});

describe('cosine annealing with warm restarts', () => {
  const o = { lrMax: 1, lrMin: 0, t0: 4, tMult: 2 };
  it('follows the hand-computed curve and restarts at 4 and 4+8 steps', () => {
    expect(cosineWarmRestartLr(0, o)).toBe(1);
    expect(cosineWarmRestartLr(1, o)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(cosineWarmRestartLr(2, o)).toBeCloseTo(0.5, 12);
    expect(cosineWarmRestartLr(3, o)).toBeCloseTo((1 - Math.SQRT1_2) / 2, 12);
    expect(cosineWarmRestartLr(4, o)).toBe(1);
    expect(cosineWarmRestartLr(8, o)).toBeCloseTo(0.5, 12);
    expect(cosineWarmRestartLr(12, o)).toBe(1);
    expect(cosineWarmRestartLr(2, { ...o, lrMin: 0.2 })).toBeCloseTo(0.6, 12);
  });
});
