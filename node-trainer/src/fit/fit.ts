/**
 * `vidkind fit`: labelled videos -> a models folder the site can use, in one command. It runs what
 * the shipped default models went through (node-trainer/corpus/train-defaults.sh), with the same
 * recipe (src/train/default-recipe.json), minus the corpus's rounds of seeds: extract each recipe
 * backbone's features, keep the clips every backbone read, cross-validate the recipe by source (the
 * estimate of how good it is on sources it never saw, and the calibration), train the heads on every
 * source but a validation share, and export a new folder from the base models folder (`vidkind
 * export --base`), its model card holding the cross-validation.
 *
 * Everything it computes lives in the work folder, so a stopped run (Ctrl-C) continues where it
 * stopped: finished extractions and folds are kept, training resumes from its checkpoint. When the
 * labels or the settings change, the features are reused (they depend on the video files only) and
 * the cross-validation and training start again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ensembleModels, pickEnsemble, type Manifest } from '../../../src/core/manifest.ts';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import type { Device } from '../backbone-runtime/session.ts';
import { crossValidate, readCvCalibration, type CrossValidationReport } from '../eval/cross-validate.ts';
import { evaluateRun } from '../eval/evaluate.ts';
import { scoreBaseModels, type BaseScore } from './base-score.ts';
import { renderReport } from '../eval/report.ts';
import { exportRun, type ExportResult } from '../export/export-run.ts';
import { extractFeatures, type ExtractSummary } from '../extract/extract-features.ts';
import { labelsFromFolders } from '../extract/folder-labels.ts';
import { labelsCsv, readLabels, type LabelRow } from '../extract/labels.ts';
import { commonItems } from '../features/common-items.ts';
import { writeFileAtomic, writeJsonAtomic } from '../fs-atomic.ts';
import { MANIFEST_FILE, readManifestFile } from '../manifest-file.ts';
import { memberConfig, parseTrainConfig, type Anchor, type TrainConfig } from '../train/config.ts';
import { readAnchorWeights } from '../train/anchor.ts';
import { headConfigFor } from '../train/loop.ts';
import { trainEnsemble } from '../train/ensemble.ts';
import type { TrainProgress, TrainResult } from '../train/loop.ts';
import { runPaths } from '../train/run-dir.ts';
import { z } from 'zod';

/** The default models' recipe: backbones (one head each), frames stored per clip, frames the app samples, training config. */
export const DEFAULT_RECIPE = z
  .object({
    backbones: z.array(z.string()).min(1),
    frames: z.number().int().positive(),
    appFrames: z.number().int().positive(),
    config: z.record(z.string(), z.unknown()),
  })
  .parse(JSON.parse(readFileSync(new URL('../train/default-recipe.json', import.meta.url), 'utf8')));

/**
 * Sources per class: the cross-validation holds one out per fold and still has one to train on and
 * one to validate on, so every class is scored on sources it never saw.
 */
export const MIN_SOURCES_PER_CLASS = 3;
/** Cross-validation folds at most (fewer when a class has fewer sources). */
export const MAX_FOLDS = 5;

export interface FitOptions {
  /** The videos' folder: labelled by their folders (extract/folder-labels.ts) unless `labels` is given. */
  videos: string;
  /** A labels CSV (`path,class,subclass,source`, paths relative to `videos`). */
  labels?: string;
  /** The new models folder; must not hold a manifest.json yet. */
  to: string;
  /** The models folder whose taxonomy and backbones the new one starts from (e.g. public/models). */
  base: string;
  /** Features, training run and reports; reused by a rerun. */
  work: string;
  /** Ensemble id and name in the new folder's manifest. */
  id: string;
  name?: string;
  /**
   * Train from a seeded start instead of from the base folder's heads (by default each head starts
   * from the base's default-ensemble head on its backbone and stays near it: train/anchor.ts).
   */
  fresh?: boolean;
  /** Training settings over the recipe's (JSON object). */
  config?: Record<string, unknown>;
  device?: Device;
  threads?: number;
  signal?: AbortSignal;
  /** One line per stage and per outcome worth reading. */
  log?: (line: string) => void;
  onExtract?: (p: { done: number; total: number; failed: number; frames: number }) => void;
  /** Training progress of one head: "fold 2/5, head 1" in the cross-validation, "head 1" in the final training. */
  onTrain?: (what: string, p: TrainProgress) => void;
}

export interface FitResult {
  cancelled: boolean;
  /** Videos labelled, and those left out for lying outside a class folder. */
  videos: number;
  skipped: string[];
  /** Videos no backbone could read (each backbone's errors.jsonl says why), and the clips trained and scored on. */
  failed: number;
  clips: number;
  /** The cross-validation by source: every clip predicted by heads trained without its source. */
  crossValidation?: Pick<CrossValidationReport, 'folds' | 'clips' | 'accuracy' | 'macroF1'>;
  /** The base folder's default models on the same videos (null when they need a backbone fit does not extract). */
  baseModels?: BaseScore | null;
  exported?: ExportResult;
  /** The exported heads' report on their validation clips (confusion matrix, per class, calibration). */
  report?: string;
}

/** Counts of clips and distinct sources per class. */
export function classCounts(rows: readonly Pick<LabelRow, 'class' | 'source'>[]): Map<string, { clips: number; sources: number }> {
  const out = new Map<string, { clips: number; sources: Set<string> }>();
  for (const r of rows) {
    const c = out.get(r.class) ?? { clips: 0, sources: new Set<string>() };
    c.clips++;
    c.sources.add(r.source);
    out.set(r.class, c);
  }
  return new Map(CLASS_IDS.flatMap((id) => (out.has(id) ? [[id, { clips: out.get(id)!.clips, sources: out.get(id)!.sources.size }]] : [])));
}

/** Why these labels cannot make a model that is scored on sources it never saw, or null. */
export function labelProblem(rows: readonly Pick<LabelRow, 'class' | 'source'>[], layoutHint: string): string | null {
  const counts = classCounts(rows);
  const summary = [...counts].map(([c, n]) => `${c} ${n.clips} video(s) from ${n.sources} source(s)`).join(', ') || 'none';
  if (counts.size < 2) return `fit needs videos of at least two classes (have: ${summary}). ${layoutHint}`;
  const few = [...counts].filter(([, n]) => n.sources < MIN_SOURCES_PER_CLASS).map(([c]) => c);
  if (few.length > 0)
    return (
      `every class needs videos from at least ${MIN_SOURCES_PER_CLASS} sources, so that it is tested on a source it was not trained on; ` +
      `${few.join(', ')} ha${few.length > 1 ? 've' : 's'} fewer (have: ${summary}). ${layoutHint}`
    );
  return null;
}

const LAYOUT_HINT =
  "A source is a video, channel, game or deck whose clips stay together: with folders, put each source's clips in a folder of its own under its class folder (e.g. gaming/minecraft/, gaming/chess/), or put videos directly in the class folder to make each one a source.";

/** Where a recipe member starts: a head of the base folder, or a seeded start and why. */
export type MemberStart = { anchor: Anchor & { sha256: string } } | { seeded: string };

/**
 * For each recipe member, the head of the base folder's default ensemble on its backbone to start
 * from, checked as training will check it (train/anchor.ts), so that a base without a usable head
 * on a backbone trains that member from a seeded start instead of failing after the extraction.
 */
export async function memberStarts(baseDir: string, base: Manifest, config: TrainConfig): Promise<MemberStart[]> {
  const { heads } = ensembleModels(base, pickEnsemble(base));
  return Promise.all(
    DEFAULT_RECIPE.backbones.map(async (b, i): Promise<MemberStart> => {
      const h = heads.find((e) => e.backbone === b);
      if (!h) return { seeded: `the base's default models have no head on ${b}` };
      const anchor = { models: resolve(baseDir), head: h.id };
      const dim = base.backbones.find((e) => e.id === b)!.output.dim;
      try {
        await readAnchorWeights(anchor, { head: headConfigFor(memberConfig(config, i), dim), backbone: b });
      } catch (e) {
        return { seeded: (e as Error).message };
      }
      return { anchor: { ...anchor, sha256: h.sha256 } };
    }),
  );
}

/** The recipe's member settings with each member's anchor added. */
function anchoredMembers(starts: MemberStart[]): { memberConfigs?: Array<Record<string, unknown>> } {
  if (!starts.some((s) => 'anchor' in s)) return {};
  const recipe = (DEFAULT_RECIPE.config.memberConfigs ?? []) as Array<Record<string, unknown>>;
  return {
    memberConfigs: DEFAULT_RECIPE.backbones.map((_, i) => {
      const s = starts[i];
      return { ...recipe[i], ...(s && 'anchor' in s ? { anchor: { models: s.anchor.models, head: s.anchor.head } } : {}) };
    }),
  };
}

/** Input that cannot make a model (the CLI's usage error, exit code 2), found before any long step. */
export class FitInputError extends Error {
  override name = 'FitInputError';
}

function fingerprint(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Runs the whole fit; throws FitInputError for input that cannot work, before any long step. */
export async function fit(o: FitOptions): Promise<FitResult> {
  const log = o.log ?? (() => {});
  if (existsSync(join(o.to, MANIFEST_FILE)))
    throw new FitInputError(`${o.to} already holds models (${MANIFEST_FILE}); choose a new folder for --to, or remove that one.`);
  if (!existsSync(join(o.base, MANIFEST_FILE))) throw new FitInputError(`${o.base} holds no ${MANIFEST_FILE} to start from (--base).`);
  const base: Manifest = readManifestFile(o.base);
  const missing = DEFAULT_RECIPE.backbones.filter((b) => !base.backbones.some((e) => e.id === b));
  if (missing.length > 0)
    throw new FitInputError(
      `${o.base} lacks the backbone(s) the recipe needs: ${missing.join(', ')} (use the site's models folder, public/models).`,
    );
  const settings = (starts: MemberStart[]): TrainConfig => {
    try {
      return parseTrainConfig({ ...DEFAULT_RECIPE.config, ...anchoredMembers(starts), ...o.config });
    } catch (e) {
      const what = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') : String(e);
      throw new FitInputError(`bad training settings (--config): ${what}`);
    }
  };
  const starts = o.fresh ? [] : await memberStarts(o.base, base, settings([]));
  const config = settings(starts);

  // Labels: the CSV as given, or the folder layout (written to the work folder, to read or edit).
  mkdirSync(o.work, { recursive: true });
  let rows: LabelRow[];
  let skipped: string[] = [];
  if (o.labels) {
    try {
      rows = readLabels(o.labels, o.videos, base.taxonomy);
    } catch (e) {
      throw new FitInputError((e as Error).message);
    }
  } else {
    if (!existsSync(o.videos)) throw new FitInputError(`${o.videos} does not exist.`);
    let unreadable: string[];
    ({ rows, skipped, unreadable } = labelsFromFolders(o.videos, base.taxonomy));
    for (const u of unreadable) log(`skipped ${u}: it could not be read`);
    writeFileAtomic(join(o.work, 'labels.csv'), labelsCsv(rows));
    log(`labels: ${rows.length} video(s) by their folders (written to ${join(o.work, 'labels.csv')})`);
    if (skipped.length > 0) {
      const folders = [...new Set(skipped.map((p) => (p.includes('/') ? p.split('/')[0] + '/' : p)))];
      log(
        `skipped ${skipped.length} video(s) outside a class folder (${CLASS_IDS.join('/, ')}/): ${folders.slice(0, 8).join(', ')}${folders.length > 8 ? ', …' : ''}`,
      );
    }
  }
  const problem = labelProblem(rows, LAYOUT_HINT);
  if (problem) throw new FitInputError(problem);
  for (const [c, n] of classCounts(rows)) log(`  ${c}: ${n.clips} video(s) from ${n.sources} source(s)`);
  if (starts.length > 0)
    log(
      `heads start from the base folder's: ${starts.map((s, i) => `${DEFAULT_RECIPE.backbones[i]} from ${'anchor' in s ? s.anchor.head : `a seeded start (${s.seeded})`}`).join(', ')}`,
    );
  const result: FitResult = { cancelled: false, videos: rows.length, skipped, failed: 0, clips: 0 };

  // Features, one store per backbone, from one decode of each video; a rerun extracts only the
  // videos not stored yet.
  const [first, ...others] = DEFAULT_RECIPE.backbones;
  const stores = DEFAULT_RECIPE.backbones.map((b) => join(o.work, 'features', b));
  const members = DEFAULT_RECIPE.backbones.length;
  const stages = 4;
  log(`[1/${stages}] features: ${DEFAULT_RECIPE.backbones.join(' + ')}, ${DEFAULT_RECIPE.frames} frames per video`);
  const extracted: ExtractSummary = await extractFeatures({
    rows,
    manifest: base,
    modelsDir: o.base,
    backbone: first!,
    out: stores[0]!,
    more: others.map((b, k) => ({ backbone: b, out: stores[k + 1]! })),
    frames: DEFAULT_RECIPE.frames,
    device: o.device,
    signal: o.signal,
    onProgress: (p) => o.onExtract?.(p),
  });
  if (extracted.cancelled) return { ...result, cancelled: true };
  // The clips every store holds: the others could not be read (each store's errors.jsonl says why).
  const common = join(o.work, 'common');
  const kept = new Set(commonItems(common, stores, rows, true).map((i) => i.path));
  const usable = rows.filter((r) => kept.has(r.path));
  result.failed = rows.length - usable.length;
  result.clips = usable.length;
  if (result.failed > 0)
    log(`${result.failed} video(s) could not be read and are left out (why: ${stores.map((s) => join(s, 'errors.jsonl')).join(', ')})`);
  const problemLeft = labelProblem(usable, LAYOUT_HINT);
  if (problemLeft) throw new FitInputError(`without the videos that could not be read, ${problemLeft}`);
  const features = stores.map((s) => join(common, basename(s)));

  // Cross-validation and the final heads start again whenever the labels or the settings differ
  // from those of the work folder's runs.
  const cvDir = join(o.work, 'cv');
  const run = join(o.work, 'run');
  const print = fingerprint([labelsCsv(usable), config, DEFAULT_RECIPE, starts.map((s) => ('anchor' in s ? s.anchor.sha256 : null))]);
  const printFile = join(o.work, 'runs.fingerprint');
  if (!existsSync(printFile) || readFileSync(printFile, 'utf8') !== print)
    for (const d of [cvDir, run]) rmSync(d, { recursive: true, force: true });
  writeFileAtomic(printFile, print);
  const stopOn = async <T>(h: { stop(): void; done: Promise<T> }): Promise<T> => {
    const stop = () => h.stop();
    o.signal?.addEventListener('abort', stop, { once: true });
    try {
      return await h.done;
    } finally {
      o.signal?.removeEventListener('abort', stop);
    }
  };

  const minSources = Math.min(...[...classCounts(usable).values()].map((n) => n.sources));
  const folds = Math.min(MAX_FOLDS, minSources);
  log(`[2/${stages}] cross-validation by source: ${folds} folds of ${members} head(s) on ${result.clips} clips`);
  const cv = await stopOn(
    crossValidate({
      features,
      out: cvDir,
      config,
      folds,
      members,
      jobs: 1,
      resume: existsSync(cvDir),
      threads: o.threads,
      frames: DEFAULT_RECIPE.appFrames,
      onProgress: (fold, member, p) => o.onTrain?.(`fold ${fold + 1}/${folds}, head ${member + 1}`, p),
    }),
  );
  if (cv.status !== 'finished' || o.signal?.aborted) return { ...result, cancelled: true };
  const { clips, accuracy, macroF1 } = cv.report;
  result.crossValidation = { folds, clips, accuracy, macroF1 };
  log(`cross-validation: accuracy ${(100 * accuracy).toFixed(1)}%, macro-F1 ${macroF1.toFixed(3)} over ${clips} clips`);
  result.baseModels = await scoreBaseModels(o.base, new Map(DEFAULT_RECIPE.backbones.map((b, k) => [b, features[k]!])));
  if (result.baseModels)
    log(
      `the base folder's models ("${result.baseModels.name}") on the same videos: accuracy ${(100 * result.baseModels.accuracy).toFixed(1)}%, macro-F1 ${result.baseModels.macroF1.toFixed(3)}`,
    );

  // The heads to ship: trained on every source but the validation share (no test part: the
  // cross-validation is the estimate), calibrated by the cross-validation.
  log(`[3/${stages}] training ${members} head(s) on every source but a validation share`);
  const [trainShare, valShare] = config.split;
  const trained: TrainResult[] = await stopOn(
    trainEnsemble({
      features,
      out: run,
      config: { ...config, split: [trainShare, valShare, 0] },
      members,
      resume: existsSync(runPaths(run).config),
      threads: o.threads,
      onProgress: (member, p) => o.onTrain?.(`head ${member + 1}`, p),
    }),
  );
  if (o.signal?.aborted || trained.some((r) => r.status === 'interrupted')) return { ...result, cancelled: true };
  const m = await evaluateRun(run, 'val', undefined, DEFAULT_RECIPE.appFrames, readCvCalibration(cvDir));
  const paths = runPaths(run);
  writeJsonAtomic(paths.metrics, m);
  writeFileAtomic(paths.report, renderReport(m, `vidkind fit: ${o.id}`));
  result.report = paths.report;

  log(`[${stages}/${stages}] export to ${o.to}`);
  result.exported = await exportRun({
    run,
    to: o.to,
    id: o.id,
    name: o.name ?? `Trained by vidkind fit on ${result.clips} videos (${new Date().toISOString().slice(0, 10)})`,
    makeDefault: true,
    frames: DEFAULT_RECIPE.appFrames,
    base: o.base,
    cv: cvDir,
  });
  return result;
}
