/**
 * Repeated by-source holdout: the same recipe trained on several seeds (each seed draws a different
 * by-source split), scored on each run's validation and test parts. One split holds only one or two
 * sources per class, so a single run's figures swing with which sources it drew; the mean over
 * seeds is the steadier estimate, and it is what picks the shipped configuration (on validation
 * only, never on test).
 */
import { z } from 'zod';

/** The parts of a metrics.json (from `vidkind eval`) this summary reads. */
export const RunMetricsSchema = z.object({
  split: z.enum(['train', 'val', 'test']),
  clips: z.number(),
  accuracy: z.number(),
  macroF1: z.number(),
  members: z.array(z.object({ dir: z.string(), backbone: z.string(), accuracy: z.number(), macroF1: z.number() })),
});
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

/** One seed's run: its validation and test metrics. */
export interface SeedRun {
  seed: number;
  val: RunMetrics;
  test: RunMetrics;
}

/** A configuration that can be shipped from a run: the whole ensemble or one member alone. */
export interface Candidate {
  /** `ensemble` or the member's directory inside the run (e.g. `members/1`). */
  id: string;
  /** Backbones it runs on a frame (the cost in the browser grows with this list). */
  backbones: string[];
}

export interface Stat {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export interface CandidateSummary extends Candidate {
  valMacroF1: Stat;
  testMacroF1: Stat;
  valAccuracy: Stat;
  testAccuracy: Stat;
}

export interface RepeatedSummary {
  seeds: number[];
  candidates: CandidateSummary[];
  /** The candidate with the best mean validation macro-F1 (ties within `tieTolerance`: fewer backbones). */
  chosen: CandidateSummary;
}

function stat(xs: number[]): Stat {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

function scores(m: RunMetrics, id: string): { macroF1: number; accuracy: number } {
  if (id === 'ensemble') return m;
  const mb = m.members.find((x) => x.dir === id);
  if (!mb) throw new Error(`member ${id} is missing from a ${m.split} metrics file`);
  return mb;
}

/**
 * Summarises runs of one recipe over seeds and picks what to ship. `tieTolerance` (macro-F1 points)
 * prefers the cheaper candidate when the validation means are that close: a second backbone doubles
 * the browser's work per frame, so it has to earn it.
 */
export function summariseSeeds(runs: SeedRun[], tieTolerance = 0.01): RepeatedSummary {
  if (runs.length === 0) throw new RangeError('no runs to summarise');
  const first = runs[0]!.val;
  const candidates: Candidate[] = [
    { id: 'ensemble', backbones: first.members.map((m) => m.backbone) },
    ...(first.members.length > 1 ? first.members.map((m) => ({ id: m.dir, backbones: [m.backbone] })) : []),
  ];
  for (const r of runs) {
    if (r.val.split !== 'val' || r.test.split !== 'test') throw new Error(`seed ${r.seed}: expected val and test metrics`);
    const dirs = r.val.members.map((m) => `${m.dir}:${m.backbone}`).join(',');
    if (dirs !== first.members.map((m) => `${m.dir}:${m.backbone}`).join(','))
      throw new Error(`seed ${r.seed} has other members than seed ${runs[0]!.seed}`);
  }
  const summaries: CandidateSummary[] = candidates.map((c) => ({
    ...c,
    valMacroF1: stat(runs.map((r) => scores(r.val, c.id).macroF1)),
    testMacroF1: stat(runs.map((r) => scores(r.test, c.id).macroF1)),
    valAccuracy: stat(runs.map((r) => scores(r.val, c.id).accuracy)),
    testAccuracy: stat(runs.map((r) => scores(r.test, c.id).accuracy)),
  }));
  const best = Math.max(...summaries.map((s) => s.valMacroF1.mean));
  const chosen = summaries
    .filter((s) => s.valMacroF1.mean >= best - tieTolerance)
    .sort((a, b) => a.backbones.length - b.backbones.length || b.valMacroF1.mean - a.valMacroF1.mean)[0]!;
  return { seeds: runs.map((r) => r.seed), candidates: summaries, chosen };
}

const fmt = (s: Stat): string => `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;

/** The summary as a Markdown table (for the model card and the training log). */
export function repeatedMarkdown(s: RepeatedSummary): string {
  const lines = [
    `Seeds ${s.seeds.join(', ')} (each a different by-source split); mean ± sd (min–max) over seeds.`,
    '',
    '| configuration | backbones | val macro-F1 | val accuracy | test macro-F1 | test accuracy |',
    '| --- | --- | --- | --- | --- | --- |',
    ...s.candidates.map(
      (c) =>
        `| ${c.id === s.chosen.id ? `**${c.id}** (shipped)` : c.id} | ${c.backbones.join(' + ')} | ${fmt(c.valMacroF1)} | ${fmt(c.valAccuracy)} | ${fmt(c.testMacroF1)} | ${fmt(c.testAccuracy)} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}
