/**
 * `vidkind cv`: k-fold cross-validation by source. The sources are dealt into k folds (stratified by
 * class); for each fold a run is trained with that fold's sources held out as its test part (and
 * validation drawn from the other sources), then scored on them. Every clip is predicted exactly
 * once by a model that never saw its source, so the pooled out-of-fold metrics cover every source,
 * where one 70/20/10 split tests one or two sources per class and swings with which ones it drew.
 * The fold runs are ordinary run directories (`<out>/fold-<i>`): eval, export and classify read them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { argmax, oodScore } from '../../../src/core/postprocess.ts';
import { readIndex, readStoreInfo, type FeatureItem } from '../features/store.ts';
import { writeJsonAtomic } from '../fs-atomic.ts';
import type { TrainConfig } from '../train/config.ts';
import { trainEnsemble, type EnsembleHandle } from '../train/ensemble.ts';
import type { TrainProgress, TrainResult } from '../train/loop.ts';
import type { EpochRecord } from '../train/run-dir.ts';
import {
  calibrationError,
  ensembleProbsAll,
  nll,
  pooledCalibration,
  pooledSubclassCalibration,
  type PooledCalibration,
  type PooledSubclassCalibration,
  type SubclassClip,
} from './calibration.ts';
import { OOD_PERCENTILE, scoreRun, type GivenCalibration } from './evaluate.ts';
import { classificationMetrics, type ClassScores } from './metrics.ts';
import { stat, type Stat } from './repeated.ts';

export interface CrossValidateOptions {
  /** Feature stores, one per backbone (members take them in turn, as in `vidkind train`). */
  features: string[];
  out: string;
  /** The training config of every fold; `folds` and `fold` are set per fold. */
  config: TrainConfig;
  folds: number;
  /** Heads per fold (an ensemble when > 1). */
  members: number;
  /** Folds trained at once (each member is a worker thread). */
  jobs: number;
  resume: boolean;
  /** Threads in all, shared out evenly over the folds trained at once. Default: one per member. */
  threads?: number;
  /** Score every clip on this many of its stored frames (as the app samples them). */
  frames?: number;
  /**
   * Sources kept in given folds (source -> fold), e.g. foldsOf(an earlier cv.json): the other
   * sources are dealt around them, so a corpus with added sources is scored on the same folds.
   */
  pinnedFolds?: ReadonlyMap<string, number>;
  /** Where pinnedFolds came from (a cv.json path), recorded in the report. */
  foldsFrom?: string;
  onProgress?: (fold: number, member: number, p: TrainProgress) => void;
  onEpoch?: (fold: number, member: number, r: EpochRecord) => void;
  onFold?: (score: FoldScore) => void;
}

export interface FoldScore {
  fold: number;
  /** Held-out clips and their sources. */
  clips: number;
  sources: string[];
  accuracy: number;
  macroF1: number;
  /** Best validation macro-F1 of each member (what picked its weights). */
  valMacroF1: number[];
}

export interface SourceScore {
  source: string;
  class: string;
  fold: number;
  clips: number;
  correct: number;
  /** How many of its clips went to each class. */
  predicted: Record<string, number>;
}

export interface CrossValidationReport {
  format: 'vidkind-cv/1';
  folds: number;
  members: number;
  /** The backbone of each features directory, in the order given. */
  backbones: string[];
  /** Frames per clip the heads saw when scored. */
  frames: number;
  config: TrainConfig;
  classes: string[];
  /** Pooled over every fold's held-out clips: each clip of the store once. */
  clips: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassScores>;
  /** confusion[true][predicted], in `classes` order. */
  confusion: number[][];
  /** Spread of the per-fold figures. */
  foldMacroF1: Stat;
  foldAccuracy: Stat;
  perFold: FoldScore[];
  /** One entry per source and class, worst first (lowest share of clips right). */
  perSource: SourceScore[];
  /** The cv.json whose folds were kept for the sources it held (`vidkind cv --folds-from`). */
  foldsFrom?: string;
  /**
   * The temperature each fold's clips were predicted at (the ensemble's argmax depends on it):
   * "validation", the fold run's own fit; "other-folds", the pooled fit without that fold (as a
   * model calibrated by the cross-validation predicts), used when validation was trained on
   * (`trainOnVal`), since a temperature fitted on clips the heads trained on is not one to judge by.
   */
  predictedAt: 'validation' | 'other-folds';
  /** Temperature and OOD threshold fitted on the pooled held-out clips (`vidkind eval --calibration` uses them). */
  calibration: CrossValidationCalibration;
}

export interface CrossValidationCalibration extends PooledCalibration {
  /** The same held-out clips as each fold's own validation split calibrated them, for comparison. */
  validationFitted: { temperature: Stat; eceAfter: number; nllAfter: number; oodFlaggedRate: number };
  /** The subcategory's confidence within its class, fitted apart (absent when no clip has a subclass or a head has no subclass output). */
  subclass?: PooledSubclassCalibration;
}

export type CrossValidationOutcome = { status: 'finished'; report: CrossValidationReport } | { status: 'interrupted' };

export interface CrossValidationHandle {
  /** Asks every running fold to checkpoint and stop; no further fold starts. */
  stop(): void;
  done: Promise<CrossValidationOutcome>;
}

const StatSchema = z.object({ mean: z.number(), sd: z.number(), min: z.number(), max: z.number() });

/** What readers of cv.json (export's model-card section) rely on. */
export const CrossValidationFileSchema = z.object({
  format: z.literal('vidkind-cv/1'),
  folds: z.number().int(),
  members: z.number().int(),
  backbones: z.array(z.string()),
  frames: z.number().int(),
  config: z.record(z.string(), z.unknown()),
  classes: z.array(z.string()),
  clips: z.number().int(),
  accuracy: z.number(),
  macroF1: z.number(),
  perClass: z.record(z.string(), z.object({ precision: z.number(), recall: z.number(), f1: z.number(), support: z.number() })),
  confusion: z.array(z.array(z.number())),
  foldMacroF1: StatSchema,
  foldAccuracy: StatSchema,
  // Absent in cv.json files written before it was recorded (they predicted at validation's temperature).
  predictedAt: z.enum(['validation', 'other-folds']).default('validation'),
  perSource: z.array(
    z.object({
      source: z.string(),
      class: z.string(),
      fold: z.number().int().min(0).optional(),
      clips: z.number(),
      correct: z.number(),
      predicted: z.record(z.string(), z.number()),
    }),
  ),
  // Absent in cv.json files written before it was recorded.
  calibration: z
    .object({
      temperature: z.number().positive(),
      oodThreshold: z.number().min(0).max(1),
      oodPercentile: z.number(),
      clips: z.number().int(),
      eceBefore: z.number(),
      eceAfter: z.number(),
      nllBefore: z.number(),
      nllAfter: z.number(),
      oodFlaggedRate: z.number(),
      leaveOneOutTemperatures: z.array(z.number()),
      validationFitted: z.object({ temperature: StatSchema, eceAfter: z.number(), nllAfter: z.number(), oodFlaggedRate: z.number() }),
      // Absent in cv.json files written before subclass calibration (2026-11-29).
      subclass: z
        .object({
          temperature: z.number().positive(),
          clips: z.number().int(),
          accuracy: z.number(),
          meanConfidence: z.number(),
          ece: z.number(),
          atClassTemperature: z.object({ temperature: z.number(), meanConfidence: z.number(), ece: z.number() }),
          leaveOneOutTemperatures: z.array(z.number()),
        })
        .optional(),
    })
    .optional(),
});
export type CrossValidationFile = z.infer<typeof CrossValidationFileSchema>;

/** Reads `<dir>/cv.json` (a `vidkind cv` output directory, or the file itself). */
export function readCrossValidation(dirOrFile: string): CrossValidationFile {
  return CrossValidationFileSchema.parse(JSON.parse(readFileSync(cvFile(dirOrFile), 'utf8')));
}

/**
 * The temperature and OOD threshold a cross-validation fitted on its pooled held-out clips, for
 * `vidkind eval --calibration` on a run trained the same way.
 */
export function readCvCalibration(dirOrFile: string): GivenCalibration {
  const file = resolve(cvFile(dirOrFile));
  const cv = readCrossValidation(file);
  if (!cv.calibration)
    throw new Error(`${file} predates pooled calibration; rerun that \`vidkind cv\` with --resume to rescore its folds and record it`);
  return {
    temperature: cv.calibration.temperature,
    oodThreshold: cv.calibration.oodThreshold,
    ...(cv.calibration.subclass ? { subclassTemperature: cv.calibration.subclass.temperature } : {}),
    clips: cv.calibration.clips,
    file,
    backbones: Array.from({ length: cv.members }, (_, i) => cv.backbones[i % cv.backbones.length]!),
    frames: cv.frames,
  };
}

/**
 * The fold each source was held out in, from a cross-validation's report (for `pinnedFolds`). A
 * report without folds per source (written before they were recorded) cannot be pinned to.
 */
export function foldsOf(cv: CrossValidationFile): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of cv.perSource) {
    if (s.fold === undefined) throw new Error('this cv.json does not record the fold of each source; rerun that cross-validation');
    const seen = out.get(s.source);
    if (seen !== undefined && seen !== s.fold) throw new Error(`source ${s.source} is in folds ${seen} and ${s.fold} of that cv.json`);
    out.set(s.source, s.fold);
  }
  return out;
}

/** A fold's figures and its held-out clips' results (from scoreRun), before pooling. */
interface ScoredFold {
  score: FoldScore;
  keys: string[];
  labels: Int32Array;
  probs: number[][];
  memberLogits: Float32Array[][];
  subclassClips: SubclassClip[];
  subclassKeys: string[];
  classes: string[];
  frames: number;
  /** What the fold's own validation split gave: its temperature and OOD threshold. */
  temperature: number;
  oodThreshold: number;
}

export const foldDir = (out: string, fold: number) => join(out, `fold-${fold}`);
export const cvReportPath = (out: string) => join(out, 'cv.json');
/** The cv.json of a `vidkind cv` output directory, or the file itself. */
const cvFile = (dirOrFile: string) => (dirOrFile.endsWith('.json') ? dirOrFile : cvReportPath(dirOrFile));

/** Trains and scores the folds (`jobs` at a time), then pools them into `<out>/cv.json`. */
export function crossValidate(o: CrossValidateOptions): CrossValidationHandle {
  if (!Number.isInteger(o.folds) || o.folds < 2) throw new RangeError(`folds must be an integer >= 2, got ${o.folds}`);
  if (!Number.isInteger(o.jobs) || o.jobs < 1) throw new RangeError(`jobs must be a positive integer, got ${o.jobs}`);
  const items = new Map(readIndex(o.features[0]!).map((it) => [it.key, it]));
  const running = new Set<EnsembleHandle>();
  let stopped = false;
  const queue = Array.from({ length: o.folds }, (_, f) => f);
  const scored: ScoredFold[] = [];

  const runFold = async (fold: number): Promise<boolean> => {
    const h = trainEnsemble({
      features: o.features,
      out: foldDir(o.out, fold),
      config: { ...o.config, folds: o.folds, fold },
      members: o.members,
      resume: o.resume,
      threads: o.threads === undefined ? undefined : Math.max(1, Math.floor(o.threads / Math.min(o.jobs, o.folds))),
      pinnedFolds: o.pinnedFolds,
      onProgress: (m, p) => o.onProgress?.(fold, m, p),
      onEpoch: (m, r) => o.onEpoch?.(fold, m, r),
    });
    running.add(h);
    let results: TrainResult[];
    try {
      results = await h.done;
    } finally {
      running.delete(h);
    }
    if (results.some((r) => r.status === 'interrupted')) return false;
    const s = await scoreRun(foldDir(o.out, fold), 'test', undefined, o.frames);
    const score: FoldScore = {
      fold,
      clips: s.metrics.clips,
      sources: [...new Set(s.keys.map((k) => items.get(k)!.source))].sort(),
      accuracy: s.metrics.accuracy,
      macroF1: s.metrics.macroF1,
      valMacroF1: results.map((r) => r.bestF1),
    };
    scored.push({
      score,
      keys: s.keys,
      labels: s.labels,
      probs: s.probs,
      memberLogits: s.memberLogits,
      subclassClips: s.subclassClips,
      subclassKeys: s.subclassKeys,
      classes: s.metrics.classes,
      frames: s.metrics.frames,
      temperature: s.metrics.temperature,
      oodThreshold: s.metrics.oodThreshold,
    });
    o.onFold?.(score);
    return true;
  };

  const lane = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined && !stopped; f = queue.shift()) if (!(await runFold(f))) stopped = true;
  };

  const done = (async (): Promise<CrossValidationOutcome> => {
    try {
      await Promise.all(Array.from({ length: Math.min(o.jobs, o.folds) }, lane));
    } catch (e) {
      // One fold failed: the others cannot make a complete cross-validation, so stop them too.
      stopped = true;
      for (const h of running) h.stop();
      throw e;
    }
    if (stopped || scored.length < o.folds) return { status: 'interrupted' };
    const report = pool(o, items, scored);
    writeJsonAtomic(cvReportPath(o.out), report);
    return { status: 'finished', report };
  })();

  return {
    stop: () => {
      stopped = true;
      for (const h of running) h.stop();
    },
    done,
  };
}

/**
 * Each fold's predicted class per clip: from its probabilities at its own validation temperature,
 * or ("other-folds") from its members' logits at `temperatures[k]`, fitted without fold k.
 */
export function foldPredictions(
  folds: Pick<ScoredFold, 'memberLogits' | 'labels' | 'probs'>[],
  predictedAt: CrossValidationReport['predictedAt'],
  temperatures: number[],
): number[][] {
  return folds.map((s, k) =>
    (predictedAt === 'other-folds' ? ensembleProbsAll(s.memberLogits, s.labels.length, temperatures[k]!) : s.probs).map(argmax),
  );
}

/** Pools the folds' held-out predictions into one report. */
function pool(o: CrossValidateOptions, items: Map<string, FeatureItem>, scored: ScoredFold[]): CrossValidationReport {
  scored.sort((a, b) => a.score.fold - b.score.fold);
  const classes = scored[0]!.classes;
  const pooledCal = pooledCalibration(
    scored.map((s) => ({ memberLogits: s.memberLogits, labels: s.labels })),
    OOD_PERCENTILE,
  );
  const predictedAt = o.config.trainOnVal ? 'other-folds' : 'validation';
  const predictions = foldPredictions(scored, predictedAt, pooledCal.leaveOneOutTemperatures);
  const truth: number[] = [];
  const pred: number[] = [];
  const bySource = new Map<string, SourceScore>();
  const seen = new Set<string>();
  for (const [k, s] of scored.entries())
    s.keys.forEach((key, i) => {
      // Folds partition the sources, so no clip is held out twice; a repeat means a broken split.
      if (seen.has(key)) throw new Error(`clip ${key} was held out by two folds`);
      seen.add(key);
      const y = s.labels[i]!;
      const p = predictions[k]![i]!;
      truth.push(y);
      pred.push(p);
      const item = items.get(key)!;
      // A source can hold clips of several classes (e.g. scratch: drawn backgrounds and photos): one entry per class.
      const id = `${item.class}\u0000${item.source}`;
      const src = bySource.get(id) ?? {
        source: item.source,
        class: item.class,
        fold: s.score.fold,
        clips: 0,
        correct: 0,
        predicted: Object.fromEntries(classes.map((c) => [c, 0])),
      };
      src.clips++;
      if (p === y) src.correct++;
      src.predicted[classes[p]!]!++;
      bySource.set(id, src);
    });
  const m = classificationMetrics(truth, pred, classes.length);
  const perFold = scored.map((s, k) => {
    if (predictedAt === 'validation') return s.score;
    const fm = classificationMetrics(s.labels, predictions[k]!, classes.length);
    return { ...s.score, accuracy: fm.accuracy, macroF1: fm.macroF1 };
  });
  const valFlagged = scored.reduce((n, s) => n + s.probs.filter((p) => oodScore(p) > s.oodThreshold).length, 0);
  const valProbs = scored.flatMap((s) => s.probs);
  const calibration: CrossValidationCalibration = {
    ...pooledCal,
    validationFitted: {
      temperature: stat(scored.map((s) => s.temperature)),
      eceAfter: calibrationError(valProbs, truth).ece,
      nllAfter: nll(valProbs, truth),
      oodFlaggedRate: valFlagged / truth.length,
    },
  };
  const subclass = pooledSubclassCalibration(
    scored.map((s) => s.subclassClips),
    scored[0]!.subclassKeys,
    pooledCal.temperature,
  );
  if (subclass) calibration.subclass = subclass;
  return {
    format: 'vidkind-cv/1',
    folds: o.folds,
    members: o.members,
    backbones: o.features.map((f) => readStoreInfo(f).backbone),
    frames: scored[0]!.frames,
    config: o.config,
    classes,
    clips: truth.length,
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    perClass: Object.fromEntries(classes.map((c, i) => [c, m.perClass[i]!])),
    confusion: m.confusion,
    foldMacroF1: stat(perFold.map((f) => f.macroF1)),
    foldAccuracy: stat(perFold.map((f) => f.accuracy)),
    perFold,
    perSource: [...bySource.values()].sort(
      (a, b) => a.correct / a.clips - b.correct / b.clips || b.clips - a.clips || (a.source < b.source ? -1 : 1),
    ),
    ...(o.foldsFrom === undefined ? {} : { foldsFrom: o.foldsFrom }),
    predictedAt,
    calibration,
  };
}
