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
});
