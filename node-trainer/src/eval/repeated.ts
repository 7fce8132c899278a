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
  /** Frames per clip the heads saw (absent in metrics written before `--frames` existed). */
  frames: z.number().int().positive().optional(),
  clips: z.number(),
  accuracy: z.number(),
  macroF1: z.number(),
  members: z.array(z.object({ dir: z.string(), backbone: z.string(), accuracy: z.number(), macroF1: z.number() })),
});
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

/** One seed's run: its validation and test metrics, one pair per frame count it was scored at. */
export interface SeedRun {
  seed: number;
  scored: Array<{ val: RunMetrics; test: RunMetrics }>;
}

/** A configuration that can be shipped from a run: the whole ensemble or one member alone, at a frame count. */
export interface Candidate {
  /** `ensemble` or the member's directory inside the run (e.g. `members/1`). */
  id: string;
  /** Backbones it runs on a frame (the cost in the browser grows with this list). */
  backbones: string[];
  /** Frames the app samples per video. */
  frames: number;
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
  /** The candidate with the best mean validation macro-F1 (ties within `tieTolerance`: the cheapest). */
  chosen: CandidateSummary;
}

/** Mean, sample standard deviation (0 for one value), min and max. */
export function stat(xs: number[]): Stat {
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

/** Backbone runs per video: what a candidate costs in the browser. */
const cost = (c: Candidate): number => c.backbones.length * c.frames;

/**
 * Summarises runs of one recipe over seeds and picks what to ship. `tieTolerance` (macro-F1 points)
 * prefers the cheaper candidate (fewer backbones x frames) when the validation means are that close:
 * a second backbone or twice the frames doubles the browser's work, so it has to earn it.
 */
export function summariseSeeds(runs: SeedRun[], tieTolerance = 0.01): RepeatedSummary {
  if (runs.length === 0 || runs[0]!.scored.length === 0) throw new RangeError('no runs to summarise');
  const members = runs[0]!.scored[0]!.val.members;
  const frameCounts = (r: SeedRun) => r.scored.map((x) => x.val.frames ?? 0).join(',');
  for (const r of runs) {
    for (const x of r.scored) {
      if (x.val.split !== 'val' || x.test.split !== 'test') throw new Error(`seed ${r.seed}: expected val and test metrics`);
      if (x.val.frames !== x.test.frames) throw new Error(`seed ${r.seed}: val and test scored at other frame counts`);
      if (x.val.members.map((m) => `${m.dir}:${m.backbone}`).join(',') !== members.map((m) => `${m.dir}:${m.backbone}`).join(','))
        throw new Error(`seed ${r.seed} has other members than seed ${runs[0]!.seed}`);
    }
    if (frameCounts(r) !== frameCounts(runs[0]!))
      throw new Error(`seed ${r.seed} was scored at other frame counts than seed ${runs[0]!.seed}`);
  }
  const summaries: CandidateSummary[] = runs[0]!.scored.flatMap((x0, k) => {
    const frames = x0.val.frames ?? 0;
    const candidates: Candidate[] = [
      { id: 'ensemble', backbones: members.map((m) => m.backbone), frames },
      ...(members.length > 1 ? members.map((m) => ({ id: m.dir, backbones: [m.backbone], frames })) : []),
    ];
    const pick = (part: 'val' | 'test', id: string) => runs.map((r) => scores(r.scored[k]![part], id));
    return candidates.map((c) => ({
      ...c,
      valMacroF1: stat(pick('val', c.id).map((x) => x.macroF1)),
      testMacroF1: stat(pick('test', c.id).map((x) => x.macroF1)),
      valAccuracy: stat(pick('val', c.id).map((x) => x.accuracy)),
      testAccuracy: stat(pick('test', c.id).map((x) => x.accuracy)),
    }));
  });
  const best = Math.max(...summaries.map((s) => s.valMacroF1.mean));
  const chosen = summaries
    .filter((s) => s.valMacroF1.mean >= best - tieTolerance)
    .sort((a, b) => cost(a) - cost(b) || b.valMacroF1.mean - a.valMacroF1.mean)[0]!;
  return { seeds: runs.map((r) => r.seed), candidates: summaries, chosen };
}

/** "mean ± sd (min–max)": mean and sd to `digits` decimals, the range to 3. */
export const formatStat = (s: Stat, digits = 3): string =>
  `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;

/** The summary as a Markdown table (for the model card and the training log). */
export function repeatedMarkdown(s: RepeatedSummary): string {
  const lines = [
    `Seeds ${s.seeds.join(', ')} (each a different by-source split); mean ± sd (min–max) over seeds.`,
    '',
    '| configuration | backbones | frames | val macro-F1 | val accuracy | test macro-F1 | test accuracy |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...s.candidates.map(
      (c) =>
        `| ${c === s.chosen ? `**${c.id}** (shipped)` : c.id} | ${c.backbones.join(' + ')} | ${c.frames} | ${formatStat(c.valMacroF1)} | ${formatStat(c.valAccuracy)} | ${formatStat(c.testMacroF1)} | ${formatStat(c.testAccuracy)} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}
