/** Choosing what to ship by cross-validation (src/eval/cv-choice.ts), as train-defaults.sh does. */
import { describe, expect, it } from 'vitest';
import { chooseByCv, cvChoiceMarkdown, type CvCandidate } from '../../src/eval/cv-choice.ts';

const candidate = (id: string, macroF1: number): CvCandidate => ({
  id,
  backbones: [id],
  dir: `/cv/${id}`,
  cv: {
    macroF1,
    accuracy: macroF1,
    frames: 16,
    foldMacroF1: { mean: macroF1, sd: 0.05 },
    perClass: { animation: { f1: 0.5 }, flat: { f1: 0.9 } },
  },
});

describe('choosing by cross-validation', () => {
  it('takes the best pooled macro-F1', () => {
    const c = [candidate('members/0', 0.684), candidate('members/1', 0.638), candidate('ensemble', 0.721)];
    expect(chooseByCv(c).id).toBe('ensemble');
  });

  it('gives a near-tie to the cheaper candidate, listed first', () => {
    const c = [candidate('members/0', 0.715), candidate('ensemble', 0.721)];
    expect(chooseByCv(c).id).toBe('members/0');
    expect(chooseByCv(c, 0.001).id).toBe('ensemble');
  });

  it('refuses an empty list, and tables the comparison with the choice in bold', () => {
    expect(() => chooseByCv([])).toThrow(/no candidates/);
    const c = [candidate('members/0', 0.684), candidate('ensemble', 0.721)];
    const md = cvChoiceMarkdown(c, chooseByCv(c));
    expect(md).toContain('| **ensemble** (shipped) | ensemble | 0.721 | 0.721 | 0.721 ± 0.050 | animation 0.500, flat 0.900 |');
    expect(md).toContain('| members/0 | members/0 | 0.684 |');
  });
});
