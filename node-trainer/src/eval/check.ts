/**
 * `vidkind check`: exported models scored end to end on labelled videos (decode, backbones, heads,
 * calibration, exactly as `vidkind classify` and the app run them), against the labels of a
 * `path,class,subclass,source` CSV. What `vidkind eval` does for a run's stored features, but for the
 * files a person actually has: their own held-out videos, or a check set such as
 * `vidkind corpus real-videos`.
 */
import { isErrorResult, type Result } from '../../../src/core/result.ts';
import { CLASS_IDS, className, type ClassId, type Taxonomy } from '../../../src/core/taxonomy.ts';
import type { LabelRow } from '../extract/labels.ts';
import { classificationMetrics, type ClassificationMetrics } from './metrics.ts';

export interface CheckedFile {
  path: string;
  source: string;
  class: ClassId;
  /** The verdict, or null when the file could not be classified (`error` says why). */
  predicted: ClassId | null;
  confidence: number | null;
  /** False when the models flagged the video as maybe none of the four kinds. */
  inDistribution: boolean | null;
  error?: { code: string; message: string };
}

export interface CheckReport {
  format: 'vidkind-check/1';
  models: { dir: string; ensemble: string | null; version: string | null; tta: boolean };
  labels: string;
  /** Every labelled file, in the labels' order. */
  files: CheckedFile[];
  /** Over the files that were classified (failed ones are listed, not scored). */
  metrics: ClassificationMetrics & { classes: ClassId[]; clips: number };
  /** Files right per source: a whole source right or wrong says more than one clip. */
  sources: Array<{ source: string; class: ClassId; right: number; of: number }>;
}

/** Pairs each labelled row with its result (same order, same length) and scores the classified ones. */
export function checkReport(
  rows: readonly LabelRow[],
  results: readonly Result[],
  meta: Pick<CheckReport, 'models' | 'labels'>,
): CheckReport {
  if (rows.length !== results.length) throw new RangeError(`${rows.length} labelled files, ${results.length} results`);
  const files: CheckedFile[] = rows.map((row, i) => {
    const r = results[i]!;
    const base = { path: row.path, source: row.source, class: row.class };
    if (isErrorResult(r)) return { ...base, predicted: null, confidence: null, inDistribution: null, error: r.error };
    return { ...base, predicted: r.label, confidence: r.confidence, inDistribution: r.ood.inDistribution };
  });
  const scored = files.filter((f): f is CheckedFile & { predicted: ClassId } => f.predicted !== null);
  const index = (c: ClassId) => CLASS_IDS.indexOf(c);
  const metrics = classificationMetrics(
    scored.map((f) => index(f.class)),
    scored.map((f) => index(f.predicted)),
    CLASS_IDS.length,
  );
  const bySource = new Map<string, { source: string; class: ClassId; right: number; of: number }>();
  for (const f of scored) {
    const key = `${f.class}\u0000${f.source}`;
    const s = bySource.get(key) ?? { source: f.source, class: f.class, right: 0, of: 0 };
    s.of++;
    if (f.predicted === f.class) s.right++;
    bySource.set(key, s);
  }
  return {
    format: 'vidkind-check/1',
    ...meta,
    files,
    metrics: { ...metrics, classes: [...CLASS_IDS], clips: scored.length },
    sources: [...bySource.values()].sort((a, b) => index(a.class) - index(b.class) || a.source.localeCompare(b.source)),
  };
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
/** A Markdown table cell: pipes and line breaks would break the row. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

/** The report as Markdown: the summary, the confusion matrix, each source, each file. */
export function checkMarkdown(r: CheckReport, taxonomy: Taxonomy): string {
  const name = (c: ClassId) => className(taxonomy, c);
  const m = r.metrics;
  const failed = r.files.filter((f) => f.error);
  const out: string[] = [];
  out.push(
    `${m.clips} of ${r.files.length} labelled videos classified` +
      (failed.length ? ` (${failed.length} could not be read)` : '') +
      `: right on ${pct(m.accuracy)} of them, macro-F1 ${m.macroF1.toFixed(3)} over the classes present.`,
    '',
  );
  const present = CLASS_IDS.filter((_, i) => m.perClass[i]!.support > 0 || m.confusion.some((row) => row[i]! > 0));
  out.push(`| true \\ predicted | ${present.map(name).join(' | ')} | recall |`, `| --- | ${present.map(() => '---').join(' | ')} | --- |`);
  for (const c of present) {
    const i = CLASS_IDS.indexOf(c);
    const row = m.confusion[i]!;
    const support = m.perClass[i]!.support;
    out.push(
      `| ${name(c)} | ${present.map((p) => String(row[CLASS_IDS.indexOf(p)])).join(' | ')} | ${support ? `${row[i]}/${support}` : '–'} |`,
    );
  }
  out.push('', '| source | class | right |', '| --- | --- | --- |');
  for (const s of r.sources) out.push(`| ${cell(s.source)} | ${name(s.class)} | ${s.right}/${s.of} |`);
  out.push('', '| file | source | class | verdict | confidence |', '| --- | --- | --- | --- | --- |');
  for (const f of r.files) {
    const verdict = f.predicted
      ? `${f.predicted === f.class ? '' : '**'}${name(f.predicted)}${f.predicted === f.class ? '' : '**'}${f.inDistribution ? '' : ' (maybe none of the four)'}`
      : `could not be read: ${cell(f.error!.code)}`;
    out.push(
      `| ${cell(f.path)} | ${cell(f.source)} | ${name(f.class)} | ${verdict} | ${f.confidence === null ? '–' : pct(f.confidence)} |`,
    );
  }
  return out.join('\n') + '\n';
}
