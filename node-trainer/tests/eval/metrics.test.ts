import { describe, expect, it } from 'vitest';
import { oodScore } from '../../../src/core/postprocess.ts';
import { calibrationError, fitTemperature, nllAt, oodThreshold } from '../../src/eval/calibration.ts';
import { classificationMetrics } from '../../src/eval/metrics.ts';

describe('classification metrics', () => {
  it('matches hand-computed confusion, precision, recall, F1', () => {
    // truth 0,0,0,1,1,2 ; pred 0,0,1,1,2,2
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.perClass[0]).toMatchObject({ precision: 1, recall: 2 / 3, support: 3 });
    expect(m.perClass[0]!.f1).toBeCloseTo(0.8, 12);
    expect(m.perClass[1]!.f1).toBeCloseTo(0.5, 12); // p 1/2, r 1/2
    expect(m.perClass[2]!.f1).toBeCloseTo(2 / 3, 12); // p 1/2, r 1
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
  });
  it('leaves a class out of macro-F1 only when it is absent from truth and predictions', () => {
    expect(classificationMetrics([0, 1], [0, 1], 4).macroF1).toBe(1);
    expect(classificationMetrics([0, 1], [0, 2], 4).macroF1).toBeCloseTo(1 / 3, 12);
  });
});

describe('calibration', () => {
  it('computes ECE by hand on two bins', () => {
    // conf 0.9 correct, 0.9 wrong -> bin [0.8,1): acc 0.5 conf 0.9; conf 0.6 correct -> bin [0.6,0.8): acc 1 conf 0.6.
    const probs = [
      [0.9, 0.1],
      [0.9, 0.1],
      [0.6, 0.4],
    ];
    const { ece, bins } = calibrationError(probs, [0, 1, 0], 5);
    expect(ece).toBeCloseTo((2 / 3) * 0.4 + (1 / 3) * 0.4, 12);
    expect(bins.filter((b) => b.count).map((b) => b.count)).toEqual([1, 2]);
  });

  it('fits the NLL-minimising temperature, above 1 for over-confident logits', () => {
    // Logits of a calibrated model scaled by 4: the fit should undo most of the scaling.
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 200; i++) {
      const margin = ((i % 10) - 3) / 3; // some clips wrong, most right
      logits.push([4 * margin, 0, -4 * margin]);
      labels.push(i % 4 === 0 ? 1 : 0);
    }
    const T = fitTemperature([logits], labels);
    expect(T).toBeGreaterThan(1);
    const at = (t: number) => nllAt([logits], labels, t);
    expect(at(T)).toBeLessThanOrEqual(at(T * 1.05));
    expect(at(T)).toBeLessThanOrEqual(at(T / 1.05));
    expect(at(T)).toBeLessThan(at(1));
  });

  it('takes the OOD threshold as the nearest-rank percentile of the normalised entropy', () => {
    const probs = Array.from({ length: 20 }, (_, i) => {
      const p = 0.5 + i / 40; // 0.5 .. 0.975: entropy falls with i
      return [p, 1 - p];
    });
    const scores = probs.map(oodScore).sort((a, b) => a - b);
    expect(oodThreshold(probs, 95)).toBe(scores[18]);
    expect(oodThreshold(probs, 100)).toBe(scores[19]);
    expect(oodThreshold(probs, 50)).toBe(scores[9]);
  });
});
