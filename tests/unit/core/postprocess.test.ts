import { describe, expect, it } from 'vitest';
import { argmax, ensembleMean, labelProbs, meanAttention, oodScore, segmentTimeline, softmax } from '../../../src/core/postprocess';
import { samplePlan, segmentWindows } from '../../../src/core/sampling';

describe('softmax', () => {
  it('matches hand-computed values', () => {
    const p = softmax([1, 2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    p.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / s, 12));
  });

  it('flattens with a temperature above 1 and is stable for huge logits', () => {
    const hot = softmax([0, 2], 2);
    expect(hot[1]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1)), 12);
    const big = softmax([1000, 1001]);
    expect(big[1]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1)), 12);
    expect(() => softmax([1], 0)).toThrow(RangeError);
  });
});

describe('ensemble and TTA means', () => {
  it('averages element-wise', () => {
    expect(
      ensembleMean([
        [0.2, 0.8],
        [0.6, 0.4],
      ]),
    ).toEqual([0.4, 0.6000000000000001]);
    expect(() => ensembleMean([])).toThrow();
    expect(() => ensembleMean([[1], [0.5, 0.5]])).toThrow();
  });

  it('argmax picks the first maximum', () => {
    expect(argmax([0.1, 0.5, 0.5, 0.2])).toBe(1);
  });
});

describe('oodScore', () => {
  it('is 0 for certainty and 1 for a uniform distribution', () => {
    expect(oodScore([1, 0, 0, 0])).toBe(0);
    expect(oodScore([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(1, 12);
  });

  it('is the normalised entropy in between', () => {
    const p = [0.7, 0.1, 0.1, 0.1];
    const h = -(0.7 * Math.log(0.7) + 3 * 0.1 * Math.log(0.1));
    expect(oodScore(p)).toBeCloseTo(h / Math.log(4), 12);
  });
});

describe('meanAttention', () => {
  it('renormalises to sum 1', () => {
    const a = meanAttention([
      [1, 0, 0],
      [0, 1, 1],
    ]);
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    expect(a[0]).toBeCloseTo(0.5 / 1.5, 12);
  });
});

describe('segmentTimeline', () => {
  it('names probabilities per window with their time span', () => {
    const windows = segmentWindows(samplePlan(16, { frames: 16 }), 8, 8);
    const seg = segmentTimeline(
      windows,
      [
        [1, 0, 0, 0],
        [0, 0, 0, 1],
      ],
      ['animation', 'gaming', 'natural', 'flat'],
    );
    expect(seg).toEqual([
      { t0: 0, t1: 8, probs: { animation: 1, gaming: 0, natural: 0, flat: 0 } },
      { t0: 8, t1: 16, probs: { animation: 0, gaming: 0, natural: 0, flat: 1 } },
    ]);
    expect(() => segmentTimeline(windows, [[1, 0, 0, 0]], ['a', 'b', 'c', 'd'])).toThrow(RangeError);
    expect(() => labelProbs(['a'], [0.5, 0.5])).toThrow(RangeError);
  });
});
