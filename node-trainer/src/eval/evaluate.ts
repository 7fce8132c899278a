/**
 * `vidkind eval`: scores a run (one head, or an ensemble = mean of member probabilities) on a split.
 * The temperature is fitted on validation and applied to every member's logits (the manifest's
 * calibration temperature); the OOD threshold comes from the calibrated validation clips.
 */
import { relative } from 'node:path';
import { argmax, meanProbs, oodScore, softmax } from '../../../src/core/postprocess.ts';
import { loadHead } from '../head/checkpoint.ts';
import { initBackend, tf } from '../train/backend.ts';
import { subsampleFrames, type ClipSet } from '../train/data.ts';
import { TrainError } from '../train/errors.ts';
import { loadPart } from '../train/loop.ts';
import { predict, weightTensors, type Predictions } from '../train/predict.ts';
import { readHistory, readRunConfig, runMembers, runPaths, type EpochRecord } from '../train/run-dir.ts';
import type { SplitPart } from '../train/split.ts';
import {
  calibrationError,
  ensembleProbsAll,
  fitSubclassTemperature,
  fitTemperature,
  oodThreshold,
  type ReliabilityBin,
  type SubclassClip,
} from './calibration.ts';
import { classificationMetrics, type ClassScores } from './metrics.ts';

/** The percentile of validation OOD scores used as the threshold (see calibration.ts oodThreshold). */
export const OOD_PERCENTILE = 95;

export interface MemberMetrics {
  dir: string;
  seed: unknown;
  backbone: string;
  accuracy: number;
  macroF1: number;
  bestEpoch: unknown;
  history: EpochRecord[];
}

export interface EvalMetrics {
  format: 'vidkind-metrics/1';
  split: SplitPart;
  /** Frames per clip the heads saw (fewer than the store holds when evaluated with `frames`). */
  frames: number;
  clips: number;
  classes: string[];
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassScores>;
  /** confusion[true][predicted], in `classes` order. */
  confusion: number[][];
  subclassAccuracy: number | null;
  subclassClips: number;
  temperature: number;
  /**
   * Temperature of the subclass logits (the subcategory's confidence within its class): from the
   * calibration when given, else fitted on validation's clips with a known subclass (1 when none).
   */
  subclassTemperature: number;
  eceBefore: number;
  eceAfter: number;
  oodThreshold: number;
  oodPercentile: number;
  /** Share of this split's clips above the threshold (they are all in-distribution, so ~5% expected). */
  oodFlaggedRate: number;
  valClips: number;
  /**
   * Where the temperature and OOD threshold came from: the run's validation split, or a
   * cross-validation's pooled held-out clips (`vidkind eval --calibration`, cv.json named in calibrationFile).
   */
  calibratedOn: 'validation' | 'cross-validation';
  calibrationClips: number;
  calibrationFile?: string;
  reliabilityBefore: ReliabilityBin[];
  reliabilityAfter: ReliabilityBin[];
  members: MemberMetrics[];
}

interface MemberOutputs {
  dir: string;
  val: Predictions;
  part: Predictions;
  valSet: ClipSet;
  partSet: ClipSet;
}

function memberOutputs(
  dir: string,
  part: SplitPart,
  frames: number | undefined,
): MemberOutputs & { meta: Record<string, unknown>; backbone: string } {
  const rc = readRunConfig(dir);
  const { head, weights } = loadHead(runPaths(dir).best);
  const load = (p: SplitPart) => {
    const set = loadPart(rc, rc.data.features, p);
    return frames === undefined ? set : subsampleFrames(set, frames);
  };
  const valSet = load('val');
  const partSet = part === 'val' ? valSet : load(part);
  const p = weightTensors(head.config, weights);
  try {
    const val = predict(head.config, p, valSet);
    return {
      dir,
      val,
      part: part === 'val' ? val : predict(head.config, p, partSet),
      valSet,
      partSet,
      meta: head.meta,
      backbone: head.backbone,
    };
  } finally {
    tf.dispose([...p.values()]);
  }
}

/** A temperature and OOD threshold fitted elsewhere (a cross-validation's pooled held-out clips). */
export interface GivenCalibration {
  temperature: number;
  oodThreshold: number;
  /** Absent in cv.json files written before subclass calibration (2026-11-29). */
  subclassTemperature?: number;
  clips: number;
  /** The cv.json they come from. */
  file: string;
  /** Backbone of each member, in order, and frames per clip, of the models they were fitted for. */
  backbones: string[];
  frames: number;
}

/**
 * Evaluates the run in `run` on `part`; `onMember` reports progress. With `frames`, every clip is
 * seen through that many of its stored frames (as the app would sample them), for calibration too.
 * With `calibration`, its temperature and threshold are used instead of fitting them on validation.
 */
export async function evaluateRun(
  run: string,
  part: SplitPart = 'test',
  onMember?: (i: number, n: number) => void,
  frames?: number,
  calibration?: GivenCalibration,
): Promise<EvalMetrics> {
  return (await scoreRun(run, part, onMember, frames, calibration)).metrics;
}

/** evaluateRun's metrics and the clip-by-clip results behind them. */
export interface ScoredRun {
  metrics: EvalMetrics;
  /** The part's clips in key order, their class labels and calibrated (ensemble) class probabilities. */
  keys: string[];
  labels: Int32Array;
  probs: number[][];
  /** Each member's raw logits for those clips (before the temperature), [member][clip]. */
  memberLogits: Float32Array[][];
  /** The part's clips with a known subclass, with each member's raw subclass logits (none when a member has no subclass output). */
  subclassClips: SubclassClip[];
  /** The heads' `class/subclass` keys, in the order of their subclass logits. */
  subclassKeys: string[];
}

/** evaluateRun, keeping each clip's result (cross-validation pools them over folds). */
export async function scoreRun(
  run: string,
  part: SplitPart = 'test',
  onMember?: (i: number, n: number) => void,
  frames?: number,
  calibration?: GivenCalibration,
): Promise<ScoredRun> {
  await initBackend();
  const dirs = runMembers(run);
  const outs = dirs.map((d, i) => {
    onMember?.(i, dirs.length);
    return memberOutputs(d, part, frames);
  });
  const first = outs[0]!;
  // Members may read different feature stores (backbones), but the split keys are shared: check that.
  for (const o of outs)
    if (o.partSet.keys.join() !== first.partSet.keys.join() || o.valSet.keys.join() !== first.valSet.keys.join())
      throw new TrainError('bad-features', `member ${o.dir} sees other clips than ${first.dir}; its features store lacks some`);
  if (first.partSet.keys.length === 0) throw new TrainError('empty-split', `the ${part} split of ${run} has no clips`);
  const classes = readRunConfig(first.dir).classes;
  const valLabels = first.valSet.labels;
  const labels = first.partSet.labels;
  const valLogits = outs.map((o) => o.val.logits);
  const partLogits = outs.map((o) => o.part.logits);

  if (calibration) {
    // A calibration fitted for other models would silently mis-scale every answer: the members'
    // backbones and the frame count must be those it was fitted for.
    const backbones = outs.map((o) => o.backbone);
    if (backbones.join() !== calibration.backbones.join() || first.partSet.frames !== calibration.frames)
      throw new TrainError(
        'calibration-mismatch',
        `${calibration.file} calibrates ${calibration.backbones.join(' + ')} at ${calibration.frames} frames, not this run's ${backbones.join(' + ')} at ${first.partSet.frames}`,
      );
  }
  const temperature = calibration?.temperature ?? fitTemperature(valLogits, valLabels);
  const n = labels.length;
  const before = ensembleProbsAll(partLogits, n, 1);
  const after = ensembleProbsAll(partLogits, n, temperature);
  const valAfter = ensembleProbsAll(valLogits, valLabels.length, temperature);
  const threshold = calibration?.oodThreshold ?? oodThreshold(valAfter, OOD_PERCENTILE);
  const calBefore = calibrationError(before, labels);
  const calAfter = calibrationError(after, labels);
  const m = classificationMetrics(labels, after.map(argmax), classes.length);

  const subKeys = readRunConfig(first.dir).subclasses;
  const subclassClips = (set: ClipSet, logits: (o: MemberOutputs) => Float32Array[] | null): SubclassClip[] =>
    outs.every((o) => logits(o))
      ? Array.from(set.subLabels).flatMap((sub, i) =>
          sub < 0 ? [] : [{ memberSubLogits: outs.map((o) => logits(o)![i]!), classId: classes[set.labels[i]!]!, sub }],
        )
      : [];
  const subclassTemperature =
    calibration?.subclassTemperature ??
    fitSubclassTemperature(
      subclassClips(first.valSet, (o) => o.val.subLogits),
      subKeys,
    );

  let subCorrect = 0;
  let subClips = 0;
  if (outs.every((o) => o.part.subLogits))
    first.partSet.subLabels.forEach((y, i) => {
      if (y < 0) return;
      subClips++;
      if (argmax(meanProbs(outs.map((o) => softmax(o.part.subLogits![i]!)))) === y) subCorrect++;
    });

  const members: MemberMetrics[] = outs.map((o) => {
    const mm = classificationMetrics(labels, o.part.logits.map(argmax), classes.length);
    return {
      dir: relative(run, o.dir) || '.',
      seed: o.meta.seed,
      backbone: o.backbone,
      accuracy: mm.accuracy,
      macroF1: mm.macroF1,
      bestEpoch: o.meta.bestEpoch,
      history: readHistory(o.dir),
    };
  });

  const metrics: EvalMetrics = {
    format: 'vidkind-metrics/1',
    split: part,
    frames: first.partSet.frames,
    clips: n,
    classes,
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    perClass: Object.fromEntries(classes.map((c, i) => [c, m.perClass[i]!])),
    confusion: m.confusion,
    subclassAccuracy: subClips ? subCorrect / subClips : null,
    subclassClips: subClips,
    temperature,
    subclassTemperature,
    eceBefore: calBefore.ece,
    eceAfter: calAfter.ece,
    oodThreshold: threshold,
    oodPercentile: OOD_PERCENTILE,
    oodFlaggedRate: after.filter((p) => oodScore(p) > threshold).length / n,
    valClips: valLabels.length,
    calibratedOn: calibration ? 'cross-validation' : 'validation',
    calibrationClips: calibration ? calibration.clips : valLabels.length,
    ...(calibration ? { calibrationFile: calibration.file } : {}),
    reliabilityBefore: calBefore.bins,
    reliabilityAfter: calAfter.bins,
    members,
  };
  return {
    metrics,
    keys: first.partSet.keys,
    labels,
    probs: after,
    memberLogits: partLogits,
    subclassClips: subclassClips(first.partSet, (o) => o.part.subLogits),
    subclassKeys: subKeys,
  };
}
