/** How many results got each verdict: the app's filter counts and `vidkind classify`'s closing line. */
import { isErrorResult, type Result } from './result';
import { CLASS_IDS, DEFAULT_TAXONOMY, className, type ClassId, type Taxonomy } from './taxonomy';

export interface ResultSummary {
  total: number;
  byClass: Record<ClassId, number>;
  /** Verdicts whose out-of-distribution score is above the model's threshold (counted in byClass too). */
  uncertain: number;
  failed: number;
}

export function summarize(results: readonly Result[]): ResultSummary {
  const byClass = Object.fromEntries(CLASS_IDS.map((c) => [c, 0])) as Record<ClassId, number>;
  let uncertain = 0;
  let failed = 0;
  for (const r of results) {
    if (isErrorResult(r)) {
      failed++;
      continue;
    }
    byClass[r.label]++;
    if (!r.ood.inDistribution) uncertain++;
  }
  return { total: results.length, byClass, uncertain, failed };
}

/** "4 files: 2 Gaming, 1 Flat content (1 uncertain); 1 failed". Classes with no file are left out. */
export function summaryText(s: ResultSummary, taxonomy: Taxonomy = DEFAULT_TAXONOMY): string {
  const verdicts = CLASS_IDS.filter((c) => s.byClass[c] > 0).map((c) => `${s.byClass[c]} ${className(taxonomy, c)}`);
  const classified = verdicts.length ? verdicts.join(', ') + (s.uncertain ? ` (${s.uncertain} uncertain)` : '') : 'none classified';
  return `${s.total} file${s.total === 1 ? '' : 's'}: ${classified}${s.failed ? `; ${s.failed} failed` : ''}`;
}
