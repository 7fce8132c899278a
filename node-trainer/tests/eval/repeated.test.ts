import { describe, expect, it } from 'vitest';
import { repeatedMarkdown, summariseSeeds, type RunMetrics, type SeedRun } from '../../src/eval/repeated.ts';

type F1s = [number, number, number];

function metrics(split: 'val' | 'test', frames: number, [ens, m0, m1]: F1s): RunMetrics {
  return {
    split,
    frames,
    clips: 100,
    accuracy: ens + 0.05,
    macroF1: ens,
    members: [
      { dir: 'members/0', backbone: 'a', accuracy: m0 + 0.05, macroF1: m0 },
      { dir: 'members/1', backbone: 'b', accuracy: m1 + 0.05, macroF1: m1 },
    ],
  };
}

/** A seed's run scored at 32 frames and, when given, at 16. */
const run = (seed: number, val: F1s, test: F1s, val16?: F1s, test16?: F1s): SeedRun => ({
  seed,
  scored: [
    { val: metrics('val', 32, val), test: metrics('test', 32, test) },
    ...(val16 && test16 ? [{ val: metrics('val', 16, val16), test: metrics('test', 16, test16) }] : []),
  ],
});

describe('summariseSeeds', () => {
  it('averages every candidate over seeds and picks the best validation mean', () => {
    const s = summariseSeeds([run(1, [0.7, 0.5, 0.6], [0.9, 0.1, 0.2]), run(2, [0.8, 0.6, 0.7], [0.1, 0.9, 0.9])]);
    expect(s.seeds).toEqual([1, 2]);
    expect(s.candidates.map((c) => c.id)).toEqual(['ensemble', 'members/0', 'members/1']);
    const ens = s.candidates[0]!;
    expect(ens).toMatchObject({ backbones: ['a', 'b'], frames: 32 });
    expect(ens.valMacroF1.mean).toBeCloseTo(0.75, 12);
    expect(ens.valMacroF1.sd).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    expect(ens.valMacroF1.min).toBe(0.7);
    expect(ens.valAccuracy.mean).toBeCloseTo(0.8, 12);
    expect(ens.testMacroF1.mean).toBeCloseTo(0.5, 12);
    // Chosen on validation: the ensemble, although members/1 is better on test.
    expect(s.chosen.id).toBe('ensemble');
  });

  it('prefers the cheapest candidate when the validation means are within the tolerance', () => {
    const s = summariseSeeds([run(1, [0.705, 0.5, 0.7], [0.5, 0.5, 0.5])], 0.01);
    expect(s.chosen).toMatchObject({ id: 'members/1', backbones: ['b'], frames: 32 });
    expect(summariseSeeds([run(1, [0.72, 0.5, 0.7], [0.5, 0.5, 0.5])], 0.01).chosen.id).toBe('ensemble');
    // Half the frames at the same validation score: fewer frames win; clearly worse: they lose.
    const both = summariseSeeds([run(1, [0.72, 0.5, 0.7], [0.5, 0.5, 0.5], [0.715, 0.5, 0.6], [0.4, 0.4, 0.4])]);
    expect(both.candidates).toHaveLength(6);
    expect(both.chosen).toMatchObject({ id: 'ensemble', frames: 16 });
    const worse = summariseSeeds([run(1, [0.72, 0.5, 0.7], [0.5, 0.5, 0.5], [0.6, 0.5, 0.6], [0.9, 0.9, 0.9])]);
    expect(worse.chosen).toMatchObject({ id: 'ensemble', frames: 32 });
  });

  it('refuses runs whose members or frame counts differ, or metrics of the wrong part', () => {
    const ok = () => run(1, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5]);
    const other = run(2, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5]);
    other.scored[0]!.val.members[1]!.backbone = 'c';
    expect(() => summariseSeeds([ok(), other])).toThrow(/other members/);
    const swapped = ok();
    swapped.scored[0]!.val = swapped.scored[0]!.test;
    expect(() => summariseSeeds([swapped])).toThrow(/val and test/);
    expect(() => summariseSeeds([ok(), run(2, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5], [0.7, 0.5, 0.6], [0.5, 0.5, 0.5])])).toThrow(
      /other frame counts/,
    );
    const mixed = ok();
    mixed.scored[0]!.test.frames = 16;
    expect(() => summariseSeeds([mixed])).toThrow(/other frame counts/);
    expect(() => summariseSeeds([])).toThrow(RangeError);
  });

  it('writes a table with one row per candidate and marks the shipped one', () => {
    const md = repeatedMarkdown(summariseSeeds([run(1, [0.7, 0.5, 0.6], [0.6, 0.5, 0.5]), run(3, [0.9, 0.5, 0.6], [0.8, 0.5, 0.5])]));
    expect(md).toContain('Seeds 1, 3');
    expect(md).toContain('| **ensemble** (shipped) | a + b | 32 | 0.800 ± 0.141 (0.700–0.900)');
    expect(md.match(/^\| members\//gm)).toHaveLength(2);
  });
});
