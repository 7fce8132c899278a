import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest';
import { softmax } from '../../../src/core/postprocess';
import { samplePlan, segmentWindows } from '../../../src/core/sampling';
import { flattenSubclasses, DEFAULT_TAXONOMY } from '../../../src/core/taxonomy';
import { buildVerdict } from '../../../src/core/verdict';
import { sampleManifest } from './fixtures';

const m = parseManifest(sampleManifest());
const ens = m.ensembles[0]!; // temperature 2, threshold 0.9
const nSub = flattenSubclasses(DEFAULT_TAXONOMY).length;

describe('buildVerdict', () => {
  it('calibrates each output, averages views then members, and picks the subclass inside the label', () => {
    const subLogits = new Array(nSub).fill(0);
    subLogits[flattenSubclasses(DEFAULT_TAXONOMY).findIndex((s) => s.key === 'gaming/strategy')] = 4;
    subLogits[0] = 8; // an animation subclass: must not be chosen for a gaming verdict
    const windows = segmentWindows(samplePlan(16, { frames: 16 }), 8, 8);
    const v = buildVerdict(
      m,
      ens,
      [
        {
          headId: 'head-a',
          views: [
            { logits: [0, 4, 0, 0], subLogits, attention: [1, 0] },
            { logits: [0, 2, 0, 0], subLogits, attention: [0, 1] },
          ],
          windowLogits: [
            [0, 4, 0, 0],
            [4, 0, 0, 0],
          ],
        },
        {
          headId: 'head-b',
          views: [{ logits: [0, 0, 0, 0] }],
          windowLogits: [
            [0, 0, 0, 0],
            [0, 0, 0, 0],
          ],
        },
      ],
      windows,
    );
    const a = softmax([0, 4, 0, 0], 2);
    const b = softmax([0, 2, 0, 0], 2);
    const memberA = a.map((x, i) => (x + b[i]!) / 2);
    const expected = memberA.map((x) => (x + 0.25) / 2);
    expect(v.label).toBe('gaming');
    expect(v.confidence).toBeCloseTo(expected[1]!, 12);
    expect(v.probs.animation).toBeCloseTo(expected[0]!, 12);
    expect(v.subclass?.id).toBe('strategy');
    expect(v.attention).toEqual([1, 0]);
    expect(v.segments).toHaveLength(2);
    expect(v.segments[1]!.probs.animation!).toBeGreaterThan(v.segments[1]!.probs.gaming!);
    expect(v.ood.inDistribution).toBe(v.ood.score <= 0.9);
  });

  it("scales the subclass logits by the ensemble's own subclass temperature, not the class temperature", () => {
    const keys = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);
    const gaming = keys.map((k, i) => [k, i] as const).filter(([k]) => k.startsWith('gaming/'));
    const subLogits = new Array(nSub).fill(0);
    subLogits[gaming[0]![1]] = 2;
    const out = [{ headId: 'head-a', views: [{ logits: [0, 4, 0, 0], subLogits }], windowLogits: [] }];
    const within = (t: number) => {
      const p = softmax(
        gaming.map(([, i]) => subLogits[i]!),
        t,
      );
      return Math.max(...p);
    };
    // A manifest without it (exported before 2026-11-29) gets 1: the heads' own scale.
    expect(ens.subclassTemperature).toBe(1);
    expect(buildVerdict(m, ens, out, []).subclass).toEqual({ id: gaming[0]![0].slice('gaming/'.length), p: expect.closeTo(within(1), 12) });
    const cooled = buildVerdict(m, { ...ens, subclassTemperature: 4 }, out, []);
    expect(cooled.subclass!.p).toBeCloseTo(within(4), 12);
    expect(cooled.subclass!.p).toBeLessThan(within(1));
    // The class verdict does not move with it.
    expect(cooled.confidence).toBe(buildVerdict(m, ens, out, []).confidence);
  });

  it('flags a flat distribution as out of distribution', () => {
    const v = buildVerdict(m, ens, [{ headId: 'head-b', views: [{ logits: [0.01, 0, 0, 0] }], windowLogits: [] }], []);
    expect(v.ood.score).toBeGreaterThan(0.99);
    expect(v.ood.inDistribution).toBe(false);
    expect(v.segments).toEqual([]);
    expect(v.subclass).toBeUndefined();
  });

  it('refuses an empty ensemble output', () => {
    expect(() => buildVerdict(m, ens, [], [])).toThrow(/No model/);
  });
});
