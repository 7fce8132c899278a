import { describe, expect, it } from 'vitest';
import { oodScore, softmax } from '../../../src/core/postprocess.ts';
import {
  calibrationError,
  ensembleProbs,
  fitTemperature,
  fitTemperatureEce,
  nll,
  nllAt,
  oodThreshold,
  pooledCalibration,
  pooledSubclassCalibration,
  subclassProbsWithin,
  type SubclassClip,
} from '../../src/eval/calibration.ts';
import { subclassWithin } from '../../../src/core/verdict.ts';
import { Rng } from '../../src/train/rng.ts';
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

  /** Clips of a calibrated 3-class model (labels drawn from its softmax), logits divided by 3: under-confident. */
  function underConfident(n: number, seed: number): { logits: number[][]; labels: number[] } {
    const rng = new Rng(seed);
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2].map(() => 3 * (rng.next() - 0.5) * 2);
      const e = z.map((v) => Math.exp(v));
      const u = rng.next() * (e[0]! + e[1]! + e[2]!);
      labels.push(u < e[0]! ? 0 : u < e[0]! + e[1]! ? 1 : 2);
      logits.push(z.map((v) => v / 3));
    }
    return { logits, labels };
  }

  it('fits the temperature of least top-class calibration error: about 1/3 for logits divided by 3', () => {
    const { logits, labels } = underConfident(3000, 11);
    const T = fitTemperatureEce([logits], labels);
    expect(T).toBeGreaterThan(0.25);
    expect(T).toBeLessThan(0.45);
    const ece = (t: number) =>
      calibrationError(
        Array.from({ length: labels.length }, (_, i) => ensembleProbs([logits], i, t)),
        labels,
      ).ece;
    for (const t of [1, 0.5, 0.2, 0.1]) expect(ece(T)).toBeLessThanOrEqual(ece(t));
    expect(fitTemperatureEce([[]], [])).toBe(1);
  });

  it('pools folds for one temperature and threshold, and judges each fold at those fitted without it', () => {
    const folds = [1, 2, 3, 4].map((seed) => underConfident(400, seed));
    // Two members: the second a noisier copy of the first.
    const groups = folds.map((f) => ({
      memberLogits: [f.logits, f.logits.map((l) => l.map((v, j) => v + (j - 1) * 0.1))],
      labels: f.labels,
    }));
    const k = pooledCalibration(groups, 90);
    const cat = (gs: typeof groups) => ({
      memberLogits: [0, 1].map((m) => gs.flatMap((g) => g.memberLogits[m]!)),
      labels: gs.flatMap((g) => g.labels),
    });
    const all = cat(groups);
    expect(k.temperature).toBe(fitTemperatureEce(all.memberLogits, all.labels));
    expect(k.clips).toBe(1600);
    expect(k.oodPercentile).toBe(90);
    const probsAt = (g: ReturnType<typeof cat>, t: number) => g.labels.map((_, i) => ensembleProbs(g.memberLogits, i, t));
    expect(k.oodThreshold).toBe(oodThreshold(probsAt(all, k.temperature), 90));
    // By hand: fold j at the temperature and threshold fitted on the other three.
    const cross: number[][] = [];
    let flagged = 0;
    groups.forEach((g, j) => {
      const rest = cat(groups.filter((_, i) => i !== j));
      const t = fitTemperatureEce(rest.memberLogits, rest.labels);
      expect(k.leaveOneOutTemperatures[j]).toBe(t);
      const th = oodThreshold(probsAt(rest, t), 90);
      const p = probsAt(cat([g]), t);
      flagged += p.filter((q) => oodScore(q) > th).length;
      cross.push(...p);
    });
    expect(k.eceAfter).toBe(calibrationError(cross, all.labels).ece);
    expect(k.nllAfter).toBe(nll(cross, all.labels));
    expect(k.oodFlaggedRate).toBe(flagged / 1600);
    expect(k.eceBefore).toBe(calibrationError(probsAt(all, 1), all.labels).ece);
    // Under-confident logits: the fitted temperature sharpens them and the error falls.
    expect(k.eceAfter).toBeLessThan(k.eceBefore / 2);
    expect(k.nllAfter).toBeLessThan(k.nllBefore);

    expect(() => pooledCalibration(groups.slice(0, 1))).toThrow(/two groups/);
    expect(() => pooledCalibration([groups[0]!, { ...groups[1]!, memberLogits: groups[1]!.memberLogits.slice(0, 1) }])).toThrow(
      /same number of members/,
    );
  });

  it("fits the subcategory's temperature within its class, apart from the class temperature", () => {
    // Two classes of two subclasses each (keys a/x, a/y, b/x, b/y). Each clip's heads are sure of one
    // subclass (margin 4, ~98% within the class) but right only 60% of the time: over-confident.
    // The other class's subclasses carry a larger logit still, which must not count.
    const keys = ['a/x', 'a/y', 'b/x', 'b/y'];
    const rng = new Rng(3);
    const group = (n: number): SubclassClip[] =>
      Array.from({ length: n }, () => {
        const classId = rng.next() < 0.5 ? 'a' : 'b';
        const own = classId === 'a' ? [0, 1] : [2, 3];
        const other = classId === 'a' ? [2, 3] : [0, 1];
        const sub = own[rng.next() < 0.5 ? 0 : 1]!;
        const guess = rng.next() < 0.6 ? sub : own.find((i) => i !== sub)!;
        const l = [0, 0, 0, 0];
        l[guess] = 4;
        l[other[0]!] = 9;
        return { memberSubLogits: [l, l.map((v) => v * 0.9)], classId, sub };
      });
    const groups = [group(300), group(300), group(300)];
    const k = pooledSubclassCalibration(groups, keys, 0.25)!;
    expect(k.clips).toBe(900);
    expect(k.leaveOneOutTemperatures).toHaveLength(3);
    // What the app shows, clip by clip: core's subclassWithin on the same members' softmaxes.
    const c = groups[0]![0]!;
    const shown = subclassWithin(
      keys,
      c.memberSubLogits.map((l) => softmax(l, 0.25)),
      c.classId,
    )!;
    expect(Math.max(...subclassProbsWithin([c], keys, 0.25).probs[0]!)).toBeCloseTo(shown.p, 12);
    // At the class temperature (0.25, sharp) it claims ~100% for a 60% guess; the fitted temperature
    // softens it to about what it earns.
    expect(k.atClassTemperature).toMatchObject({ temperature: 0.25 });
    expect(k.atClassTemperature.meanConfidence).toBeGreaterThan(0.99);
    expect(k.atClassTemperature.ece).toBeGreaterThan(0.3);
    expect(k.temperature).toBeGreaterThan(4);
    expect(k.accuracy).toBeGreaterThan(0.5);
    expect(k.accuracy).toBeLessThan(0.7);
    expect(Math.abs(k.meanConfidence - k.accuracy)).toBeLessThan(0.05);
    expect(k.ece).toBeLessThan(0.05);
    // Clips without a subclass of their class are left out; none at all gives null.
    expect(subclassProbsWithin([{ ...c, sub: c.classId === 'a' ? 2 : 0 }], keys, 1).labels).toEqual([]);
    expect(pooledSubclassCalibration([[], []], keys, 1)).toBeNull();
  });
});
