/** The exported ONNX head against the reference forward, in onnxruntime-node, onnxruntime-web (WASM) and tfjs, on random weights. */
import { describe, expect, it } from 'vitest';
import { headToOnnx } from '../../src/export/head-onnx.ts';
import { checkHeadParity, PARITY_TOLERANCE } from '../../src/export/parity.ts';
import { HeadConfigSchema } from '../../src/head/params.ts';
import { referenceForward } from '../../src/head/reference-forward.ts';
import { randomFloats, randomHead } from '../extract/test-models.ts';

const small = HeadConfigSchema.parse({
  featureDim: 24,
  projDim: 16,
  lstmHidden: 8,
  lstmLayers: 2,
  attnHeads: 4,
  poolHidden: 8,
  subclasses: 6,
});

describe('headToOnnx', () => {
  it('matches the reference forward in onnxruntime-node, onnxruntime-web and tfjs for several N and T', async () => {
    const w = randomHead(small, 3);
    const report = await checkHeadParity(small, w, headToOnnx(small, w), 12);
    expect(report.maxAbsDiff.tfjs).not.toBeNull();
    for (const v of Object.values(report.maxAbsDiff)) expect(v).toBeLessThanOrEqual(PARITY_TOLERANCE);
    expect(report.passed).toBe(true);
    expect(report.cases.map((c) => c.t)).toEqual([12, 3, 1]);
  });

  it('handles 4 layers, no subclasses, and the default (original system) sizes', async () => {
    const noSub = HeadConfigSchema.parse({
      featureDim: 10,
      projDim: 8,
      lstmHidden: 4,
      lstmLayers: 4,
      attnHeads: 2,
      poolHidden: 4,
      subclasses: 0,
    });
    const w = randomHead(noSub, 5);
    const r = await checkHeadParity(noSub, w, headToOnnx(noSub, w), 6, { tfjs: false });
    expect(r.passed).toBe(true);
    const big = HeadConfigSchema.parse({ featureDim: 64, subclasses: 46, lstmLayers: 4 });
    const wb = randomHead(big, 7);
    const rb = await checkHeadParity(big, wb, headToOnnx(big, wb), 8, { tfjs: false });
    expect(rb.maxAbsDiff.onnxruntimeNode).toBeLessThanOrEqual(PARITY_TOLERANCE);
    expect(rb.maxAbsDiff.onnxruntimeWeb).toBeLessThanOrEqual(PARITY_TOLERANCE);
  });

  it('detects a wrong LSTM gate order (the check can fail)', async () => {
    const w = randomHead(small, 3);
    // Swapping the forget and output gate blocks of one kernel is what a naive Keras->ONNX copy does.
    const k = w.get('lstm0/fw/kernel')!;
    const H = small.lstmHidden;
    const swapped = new Map(w);
    const s = k.slice();
    for (let r = 0; r < small.projDim; r++)
      for (let j = 0; j < H; j++) {
        s[r * 4 * H + H + j] = k[r * 4 * H + 3 * H + j]!;
        s[r * 4 * H + 3 * H + j] = k[r * 4 * H + H + j]!;
      }
    swapped.set('lstm0/fw/kernel', s);
    const r = await checkHeadParity(small, w, headToOnnx(small, swapped), 8, { tfjs: false });
    expect(r.passed).toBe(false);
    expect(r.maxAbsDiff.onnxruntimeNode).toBeGreaterThan(1e-3);
  });

  it('reference attention sums to 1 over T', () => {
    const w = randomHead(small, 9);
    const x = randomFloats(2 * 5 * 24, 4, 1);
    const { attention, logits, subLogits } = referenceForward(small, w, x, 2, 5);
    expect(attention.slice(0, 5).reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    expect(logits.length).toBe(8);
    expect(subLogits!.length).toBe(12);
  });

  describe('stats head', () => {
    const stats = HeadConfigSchema.parse({ kind: 'stats', featureDim: 24, subclasses: 6 });

    it('matches the reference forward in onnxruntime-node, onnxruntime-web and tfjs, with and without subclasses', async () => {
      const w = randomHead(stats, 4);
      const r = await checkHeadParity(stats, w, headToOnnx(stats, w), 12);
      expect(r.maxAbsDiff.tfjs).not.toBeNull();
      for (const v of Object.values(r.maxAbsDiff)) expect(v).toBeLessThanOrEqual(PARITY_TOLERANCE);
      expect(r.passed).toBe(true);
      const noSub = HeadConfigSchema.parse({ kind: 'stats', featureDim: 10, subclasses: 0 });
      const wn = randomHead(noSub, 6);
      expect((await checkHeadParity(noSub, wn, headToOnnx(noSub, wn), 5)).passed).toBe(true);
    });

    it('detects swapped mean and standard-deviation rows (the check can fail)', async () => {
      const w = randomHead(stats, 4);
      const k = w.get('cls/kernel')!;
      const half = k.length / 2;
      const swapped = new Map(w).set(
        'cls/kernel',
        Float32Array.from(k, (_, i) => k[(i + half) % k.length]!),
      );
      const r = await checkHeadParity(stats, w, headToOnnx(stats, swapped), 8, { tfjs: false });
      expect(r.passed).toBe(false);
    });

    it('computes logits from the mean and standard deviation over frames, and its attention points at the frame that decided', () => {
      // Class 2 reads feature 1's mean, class 3 feature 0's standard deviation; no bias.
      const c = HeadConfigSchema.parse({ kind: 'stats', featureDim: 2, subclasses: 0 });
      const kernel = new Float32Array(4 * 4);
      kernel[1 * 4 + 2] = 1;
      kernel[(2 + 0) * 4 + 3] = 1;
      const w = new Map([
        ['cls/kernel', kernel],
        ['cls/bias', new Float32Array(4)],
      ]);
      // Feature 0: 0, 0, 0, 8 (mean 2, std sqrt(12)); feature 1: 1 in every frame.
      const x = Float32Array.of(0, 1, 0, 1, 0, 1, 8, 1);
      const { logits, attention } = referenceForward(c, w, x, 1, 4);
      expect(Array.from(logits).map((v) => Number(v.toFixed(5)))).toEqual([0, 0, 1, Number(Math.sqrt(12).toFixed(5))]);
      // The verdict (class 3) comes from frame 3's deviation.
      expect(attention.indexOf(Math.max(...attention))).toBe(3);
      expect(attention.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
      // A still clip: no deviation, no NaN.
      const still = referenceForward(c, w, Float32Array.of(5, 1, 5, 1), 1, 2);
      expect(Array.from(still.logits).every(Number.isFinite)).toBe(true);
      expect(Array.from(still.attention)).toEqual([0.5, 0.5]);
    });
  });
});
