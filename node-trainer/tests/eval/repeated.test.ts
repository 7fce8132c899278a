import { describe, expect, it } from 'vitest';
import { repeatedMarkdown, summariseSeeds, type RunMetrics, type SeedRun } from '../../src/eval/repeated.ts';

function metrics(split: 'val' | 'test', ens: number, m0: number, m1: number): RunMetrics {
  return {
    split,
    clips: 100,
    accuracy: ens + 0.05,
    macroF1: ens,
    members: [
      { dir: 'members/0', backbone: 'a', accuracy: m0 + 0.05, macroF1: m0 },
      { dir: 'members/1', backbone: 'b', accuracy: m1 + 0.05, macroF1: m1 },
    ],
  };
}

const run = (seed: number, val: [number, number, number], test: [number, number, number]): SeedRun => ({
  seed,
  val: metrics('val', ...val),
  test: metrics('test', ...test),
});

describe('summariseSeeds', () => {
  it('averages every candidate over seeds and picks the best validation mean', () => {
    const s = summariseSeeds([run(1, [0.7, 0.5, 0.6], [0.9, 0.1, 0.2]), run(2, [0.8, 0.6, 0.7], [0.1, 0.9, 0.9])]);
    expect(s.seeds).toEqual([1, 2]);
    expect(s.candidates.map((c) => c.id)).toEqual(['ensemble', 'members/0', 'members/1']);
    const ens = s.candidates[0]!;
    expect(ens.backbones).toEqual(['a', 'b']);
    expect(ens.valMacroF1.mean).toBeCloseTo(0.75, 12);
    expect(ens.valMacroF1.sd).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    expect(ens.valMacroF1.min).toBe(0.7);
    expect(ens.valAccuracy.mean).toBeCloseTo(0.8, 12);
    expect(ens.testMacroF1.mean).toBeCloseTo(0.5, 12);
    // Chosen on validation: the ensemble, although members/1 is better on test.
    expect(s.chosen.id).toBe('ensemble');
  });

  it('prefers fewer backbones when the validation means are within the tolerance', () => {
    const s = summariseSeeds([run(1, [0.705, 0.5, 0.7], [0.5, 0.5, 0.5])], 0.01);
    expect(s.chosen.id).toBe('members/1');
    expect(s.chosen.backbones).toEqual(['b']);
    expect(summariseSeeds([run(1, [0.72, 0.5, 0.7], [0.5, 0.5, 0.5])], 0.01).chosen.id).toBe('ensemble');
  });

  it('refuses runs whose members differ, or metrics of the wrong part', () => {
    const other = run(2, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5]);
    other.val.members[1]!.backbone = 'c';
    expect(() => summariseSeeds([run(1, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5]), other])).toThrow(/other members/);
    const swapped = run(1, [0.7, 0.5, 0.6], [0.5, 0.5, 0.5]);
    expect(() => summariseSeeds([{ ...swapped, val: swapped.test }])).toThrow(/val and test/);
    expect(() => summariseSeeds([])).toThrow(RangeError);
  });

  it('writes a table with one row per candidate and marks the shipped one', () => {
    const md = repeatedMarkdown(summariseSeeds([run(1, [0.7, 0.5, 0.6], [0.6, 0.5, 0.5]), run(3, [0.9, 0.5, 0.6], [0.8, 0.5, 0.5])]));
    expect(md).toContain('Seeds 1, 3');
    expect(md).toContain('| **ensemble** (shipped) | a + b | 0.800 ± 0.141 (0.700–0.900)');
    expect(md.match(/^\| members\//gm)).toHaveLength(2);
  });
});
