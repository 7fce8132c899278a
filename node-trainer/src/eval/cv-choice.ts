/**
 * Chooses what to ship from cross-validations by source (`vidkind cv`) of each candidate
 * configuration: the best pooled macro-F1, near-ties (within `tie`) going to the cheaper candidate,
 * which comes first in the list. Used by corpus/cv-choice.ts (train-defaults.sh).
 */
import { z } from 'zod';

export const CvSummarySchema = z.object({
  macroF1: z.number(),
  accuracy: z.number(),
  frames: z.number().int(),
  foldMacroF1: z.object({ mean: z.number(), sd: z.number() }),
  perClass: z.record(z.string(), z.object({ f1: z.number() })),
});
export type CvSummary = z.infer<typeof CvSummarySchema>;

export interface CvCandidate {
  id: string;
  backbones: string[];
  dir: string;
  cv: CvSummary;
}

/** The candidate to ship: within `tie` of the best pooled macro-F1, the first listed (the cheapest). */
export function chooseByCv(candidates: CvCandidate[], tie = 0.01): CvCandidate {
  if (candidates.length === 0) throw new RangeError('no candidates to choose from');
  const best = Math.max(...candidates.map((c) => c.cv.macroF1));
  return candidates.find((c) => c.cv.macroF1 >= best - tie)!;
}

/** The comparison as a markdown table, the chosen one in bold. */
export function cvChoiceMarkdown(candidates: CvCandidate[], chosen: CvCandidate, tie = 0.01): string {
  const f = (x: number) => x.toFixed(3);
  return [
    '',
    `Chosen by cross-validation by source (${chosen.cv.frames} frames; near-ties within ${tie} go to the cheaper, listed first):`,
    '',
    '| configuration | backbones | pooled macro-F1 | accuracy | per fold macro-F1 | F1 per class |',
    '| --- | --- | --- | --- | --- | --- |',
    ...candidates.map(
      (c) =>
        `| ${c === chosen ? `**${c.id}** (shipped)` : c.id} | ${c.backbones.join(' + ')} | ${f(c.cv.macroF1)} | ${f(c.cv.accuracy)} | ` +
        `${f(c.cv.foldMacroF1.mean)} ± ${f(c.cv.foldMacroF1.sd)} | ${Object.entries(c.cv.perClass)
          .map(([k, v]) => `${k} ${f(v.f1)}`)
          .join(', ')} |`,
    ),
    '',
  ].join('\n');
}
