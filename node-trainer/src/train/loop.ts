/**
 * The training loop of one head: split, batches, forward/backward, clipping, AdamW, the cosine
 * schedule, validation, early stopping, and a checkpoint every epoch (and on interruption) that
 * `--resume` continues from bit-for-bit.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import { argmax } from '../../../src/core/postprocess.ts';
import { loadHead, saveHead } from '../head/checkpoint.ts';
import { headParamShapes, type HeadConfig, type HeadWeights } from '../head/params.ts';
import { readIndex, readStoreInfo, type FeatureItem } from '../features/store.ts';
import { writeJsonAtomic } from '../fs-atomic.ts';
import { classificationMetrics } from '../eval/metrics.ts';
import { initBackend, tf } from './backend.ts';
import { parseTrainConfig, type TrainConfig } from './config.ts';
import { epochOrder, loadClipSet, subsampleFrames, SUBCLASS_KEYS, type ClipSet } from './data.ts';
import { TrainError } from './errors.ts';
import { initHeadWeights } from './init.ts';
import { focalLossJs } from './loss.ts';
import { newAdamWState, type AdamWState } from './optim.ts';
import { checkSolverConfig, solveStatsHead } from './solve.ts';
import { StepRunner } from './step.ts';
import { predict, weightTensors } from './predict.ts';
import { Rng } from './rng.ts';
import { readRunConfig, runPaths, writeRunConfig, type EpochRecord, type RunConfig } from './run-dir.ts';
import { cosineWarmRestartLr } from './schedule.ts';
import { crossValidationSplit, splitBySource, type SplitPart } from './split.ts';
import { readAnchorWeights } from './anchor.ts';
import { foldInputStats, identityStats, inputStats, pooledStats, unfoldInputStats } from './standardize.ts';
import { hasTrainState, loadTrainState, saveTrainState, type TrainState } from './state.ts';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  totalSteps: number;
  loss: number;
  lr: number;
}

export interface TrainRunOptions {
  features: string;
  out: string;
  config: TrainConfig;
  resume: boolean;
  /** A split made by the caller (ensemble members share one); otherwise made here from the seed. */
  split?: Record<string, SplitPart>;
  /**
   * Threads this head may use for its gradient shards (config.shards; train/step.ts), this one
   * included. Default 1. The result does not depend on it.
   */
  threads?: number;
  /** Polled between steps; true = save a checkpoint and return 'interrupted'. */
  shouldStop?: () => boolean;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
}

export interface TrainResult {
  status: 'finished' | 'early-stopped' | 'interrupted' | 'already-done';
  out: string;
  epochsTrained: number;
  bestEpoch: number;
  bestF1: number;
}

/** HeadConfig of a training config for a store. */
export function headConfigFor(c: TrainConfig, featureDim: number): HeadConfig {
  return {
    kind: c.head,
    featureDim,
    projDim: c.projDim,
    lstmHidden: c.lstmHidden,
    lstmLayers: c.lstmLayers,
    attnHeads: c.attnHeads,
    poolHidden: c.poolHidden,
    classes: CLASS_IDS.length,
    subclasses: SUBCLASS_KEYS.length,
    dropout: c.dropout,
  };
}

/**
 * The store's split for a seed (its own RNG stream, so it never shifts the training randomness).
 * `pinnedFolds` (cross-validation only): sources kept in given folds (split.ts foldsBySource).
 */
export function makeSplit(items: FeatureItem[], c: TrainConfig, pinnedFolds?: ReadonlyMap<string, number>): Record<string, SplitPart> {
  const rng = new Rng(c.seed ^ 0x5b1d);
  if (c.folds !== undefined) return Object.fromEntries(crossValidationSplit(items, c.split, c.folds, c.fold ?? 0, rng, pinnedFolds));
  return Object.fromEntries(splitBySource(items, c.split, rng));
}

/** Creates config.json for a fresh run, or reads it back on --resume (refusing a different config). */
export function prepareRun(o: Pick<TrainRunOptions, 'features' | 'out' | 'config' | 'resume' | 'split'>): RunConfig {
  const paths = runPaths(o.out);
  if (existsSync(paths.config)) {
    if (!o.resume)
      throw new TrainError('run-exists', `${o.out} already holds a run; pass --resume to continue it, or choose another --out`);
    const rc = readRunConfig(o.out);
    // Both through the schema, so key order does not matter (cv appends folds/fold after memberConfigs).
    if (JSON.stringify(parseTrainConfig(rc.train)) !== JSON.stringify(parseTrainConfig(o.config)))
      throw new TrainError(
        'config-mismatch',
        `${o.out} was started with another training config; resume it without --config, or start a new run`,
      );
    return rc;
  }
  const info = readStoreInfo(o.features);
  const items = readIndex(o.features);
  if (items.length === 0) throw new TrainError('bad-features', `${o.features} holds no extracted clips`);
  const split = o.split ?? makeSplit(items, o.config);
  const count = (p: SplitPart) => items.filter((i) => split[i.key] === p).length;
  const rc: RunConfig = {
    format: 'vidkind-train/1',
    train: o.config,
    head: headConfigFor(o.config, info.dim),
    data: {
      features: resolve(o.features),
      backbone: info.backbone,
      frames: info.frames,
      featureDim: info.dim,
      clips: { train: count('train'), val: count('val'), test: count('test') },
    },
    classes: [...CLASS_IDS],
    subclasses: SUBCLASS_KEYS,
    split,
  };
  if (rc.data.clips.train === 0) throw new TrainError('empty-split', 'the training split is empty: add clips from more sources');
  if (rc.data.clips.val === 0)
    throw new TrainError('empty-split', 'the validation split is empty: add clips from more sources (each source goes to one part)');
  mkdirSync(o.out, { recursive: true });
  writeRunConfig(o.out, rc);
  return rc;
}

/** The clips of one split part (or of several together), in key order (so the order never depends on the index file). */
export function loadPart(rc: RunConfig, features: string, part: SplitPart | readonly SplitPart[]): ClipSet {
  const parts: readonly SplitPart[] = typeof part === 'string' ? [part] : part;
  const items = readIndex(features)
    .filter((i) => {
      const p = rc.split[i.key];
      return p !== undefined && parts.includes(p);
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  return loadClipSet(features, items, rc.data.frames, rc.data.featureDim);
}

/** Steps in a row whose loss or gradient is not finite before training gives up as diverged. */
export const MAX_SKIPPED_IN_A_ROW = 5;

/** Validation loss (same objective, no dropout), macro-F1 and accuracy. */
export function validate(
  head: HeadConfig,
  weights: HeadWeights,
  set: ClipSet,
  c: TrainConfig,
): { loss: number; macroF1: number; accuracy: number } {
  const p = weightTensors(head, weights);
  try {
    const pr = predict(head, p, set);
    let loss = focalLossJs(pr.logits, set.labels, c.focalGamma, c.labelSmoothing);
    if (pr.subLogits && c.subclassWeight > 0)
      loss += c.subclassWeight * focalLossJs(pr.subLogits, set.subLabels, c.focalGamma, c.labelSmoothing);
    const m = classificationMetrics(set.labels, pr.logits.map(argmax), head.classes);
    return { loss, macroF1: m.macroF1, accuracy: m.accuracy };
  } finally {
    tf.dispose([...p.values()]);
  }
}

/** Trains (or resumes) one head into `o.out`. */
export async function trainHead(o: TrainRunOptions): Promise<TrainResult> {
  await initBackend();
  const rc = prepareRun(o);
  const c = rc.train;
  const head = rc.head;
  const paths = runPaths(o.out);
  const shapesList = headParamShapes(head);
  const names = shapesList.map((s) => s.name);
  const shapes = shapesList.map((s) => s.shape);
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  if (c.trainOnVal && c.keep !== 'last')
    throw new RangeError('"trainOnVal" needs "keep": "last" (validation on clips it trained on cannot pick an epoch)');
  const trainSet = loadPart(rc, o.features, c.trainOnVal ? ['train', 'val'] : 'train');
  if (c.trainFrames !== undefined && c.trainFrames > trainSet.frames)
    throw new Error(`trainFrames ${c.trainFrames} is more than the ${trainSet.frames} frames per clip the feature store holds`);
  const valStored = loadPart(rc, o.features, 'val');
  // subsampleFrames returns the set itself when trainFrames is every stored frame.
  const valSet = c.trainFrames === undefined ? valStored : subsampleFrames(valStored, c.trainFrames);
  const stepsPerEpoch = Math.ceil(trainSet.keys.length / c.batch);
  const t0 = Math.max(1, Math.round(c.restartEpochs * stepsPerEpoch));

  // Statistics of the training split (deterministic, so a resumed run recomputes the same ones).
  if (c.poolStandardize && head.kind !== 'stats') throw new RangeError('"poolStandardize" is for the stats head ("head": "stats")');
  const perFrame = c.standardize ? inputStats(trainSet) : c.poolStandardize ? identityStats(trainSet.dim) : null;
  const stats =
    perFrame && c.poolStandardize ? { ...perFrame, pooled: pooledStats(trainSet, perFrame, c.trainFrames ?? trainSet.frames) } : perFrame;
  // The head to start from and stay near, in the trained view (standardised inputs): the weights
  // are anchor + params, params starting at 0 (anchor.ts).
  if (c.anchor && c.solver !== 'adamw') throw new RangeError('"anchor" trains with the "adamw" solver');
  let anchorParams: Float32Array[] | null = null;
  if (c.anchor) {
    const raw = await readAnchorWeights(c.anchor, { head, backbone: rc.data.backbone });
    const w = stats ? unfoldInputStats(head, raw, stats) : raw;
    anchorParams = names.map((n) => w.get(n)!);
  }

  let st: Omit<TrainState, 'blob' | 'format'>;
  let params: Float32Array[];
  let adam: AdamWState;
  let rng: Rng;
  if (hasTrainState(paths.state)) {
    const loaded = loadTrainState(paths.state, sizes);
    st = loaded.state;
    params = loaded.tensors.params;
    adam = { step: st.adamStep, m: loaded.tensors.m, v: loaded.tensors.v };
    rng = Rng.fromState(st.rngState);
  } else {
    rng = new Rng(c.seed);
    // Drawn with an anchor too, so the run's later draws (order, dropout) are those of a run without.
    const w = initHeadWeights(head, rng);
    params = anchorParams ? sizes.map((n) => new Float32Array(n)) : names.map((n) => w.get(n)!);
    adam = newAdamWState(params);
    st = {
      epoch: 0,
      stepInEpoch: 0,
      globalStep: 0,
      order: null,
      rngState: rng.state,
      adamStep: 0,
      epochLossSum: 0,
      epochLossCount: 0,
      epochSeconds: 0,
      history: [],
      bestEpoch: -1,
      bestF1: -1,
      done: false,
    };
  }
  const result = (status: TrainResult['status']): TrainResult => ({
    status,
    out: o.out,
    epochsTrained: st.history.length,
    bestEpoch: st.bestEpoch,
    bestF1: st.bestF1,
  });
  if (st.done) {
    // A kill between the final checkpoint and the last write of best/ leaves best/ unfinished: finish it.
    finishBest(paths.best, st.history.length, st.history.length < c.epochs ? 'early-stopped' : 'finished');
    return result('already-done');
  }
  const save = () => saveTrainState(paths.state, { ...st, rngState: rng.state, adamStep: adam.step }, { params, m: adam.m, v: adam.v });
  // What validation and best/ see: weights on raw features (the statistics folded into proj).
  const weightsMap = (): HeadWeights => {
    const w: HeadWeights = new Map(names.map((n, i) => [n, anchorParams ? addArrays(anchorParams[i]!, params[i]!) : params[i]!]));
    return stats ? foldInputStats(head, w, stats) : w;
  };
  // best/: the kept epoch's weights on raw features, with its validation and what it trained on.
  const writeBest = (weights: HeadWeights, v: ReturnType<typeof validate>) =>
    saveHead(
      paths.best,
      {
        format: 'vidkind-head/1',
        config: head,
        backbone: rc.data.backbone,
        frames: rc.data.frames,
        classes: [...CLASS_IDS],
        subclasses: rc.subclasses,
        meta: {
          seed: c.seed,
          epochsTrained: st.history.length,
          bestEpoch: st.bestEpoch,
          valMacroF1: v.macroF1,
          valAccuracy: v.accuracy,
          valLoss: v.loss,
          data: rc.data,
          splitKeys: {
            train: trainSet.keys,
            val: valSet.keys,
            test: Object.keys(rc.split)
              .filter((k) => rc.split[k] === 'test')
              .sort(),
          },
          train: c,
        },
      },
      weights,
    );

  if (c.solver === 'lbfgs') return solveRun();
  const lrAt = (step: number) => cosineWarmRestartLr(step, { lrMax: c.lr, lrMin: c.lrMin, t0, tMult: c.tMult });

  /** `"solver": "lbfgs"` (train/solve.ts): one record per L-BFGS iteration, best/ written at the end. */
  function solveRun(): TrainResult {
    checkSolverConfig(c, head);
    let kept: { weights: HeadWeights; v: ReturnType<typeof validate> } | null = null;
    let interrupted = false;
    let since = performance.now();
    const solved = solveStatsHead({
      head,
      c,
      set: trainSet,
      stats,
      names,
      shapes,
      onIteration: ({ iteration, loss, step, params: solvedParams }) => {
        params = solvedParams;
        const weights = weightsMap();
        const v = validate(head, weights, valSet, c);
        const record: EpochRecord = {
          epoch: iteration,
          trainLoss: loss,
          valLoss: v.loss,
          valMacroF1: v.macroF1,
          valAccuracy: v.accuracy,
          lr: step,
          seconds: (performance.now() - since) / 1000,
        };
        since = performance.now();
        st.history.push(record);
        if (c.keep === 'last' || v.macroF1 > st.bestF1) {
          st.bestF1 = v.macroF1;
          st.bestEpoch = iteration;
          kept = { weights, v };
        }
        st.epoch = iteration + 1;
        o.onProgress?.({
          epoch: iteration,
          epochs: c.epochs,
          step: 1,
          stepsPerEpoch: 1,
          globalStep: iteration + 1,
          totalSteps: c.epochs,
          loss,
          lr: step,
        });
        o.onEpoch?.(record);
        if (o.shouldStop?.()) interrupted = true;
        return !interrupted && !(c.keep === 'best' && iteration - st.bestEpoch >= c.patience);
      },
    });
    writeJsonAtomic(paths.history, st.history);
    // Interrupted: nothing is kept; a resumed run solves again from the start (it is deterministic).
    if (interrupted) return result('interrupted');
    if (!kept) {
      // Converged before its first iteration (zero weights are optimal): keep those.
      params = solved.params;
      const weights = weightsMap();
      kept = { weights, v: validate(head, weights, valSet, c) };
      st.bestF1 = kept.v.macroF1;
    }
    const k: { weights: HeadWeights; v: ReturnType<typeof validate> } = kept;
    writeBest(k.weights, k.v);
    st.done = true;
    save();
    // 'stopped' here is patience (keep "best"); 'no-progress' is the optimum to float32 precision.
    const status = solved.reason === 'stopped' ? 'early-stopped' : 'finished';
    finishBest(paths.best, st.history.length, status);
    return result(status);
  }

  // With shards, moves params, moments and the training clips into shared memory (the arrays stay valid).
  const runner = await StepRunner.start(
    { head, names, shapes, params, set: trainSet, c, stats, anchor: anchorParams },
    adam,
    o.threads ?? 1,
  );
  let status: TrainResult['status'] = 'finished';
  let skippedInARow = 0;
  try {
    while (st.epoch < c.epochs) {
      if (!st.order) {
        st.order = epochOrder(trainSet, c.sourceBalance, rng, c.classBalance);
        st.stepInEpoch = 0;
        st.epochLossSum = 0;
        st.epochLossCount = 0;
        st.epochSeconds = 0;
      }
      const since = performance.now();
      while (st.stepInEpoch < stepsPerEpoch) {
        // Let signal handlers and worker messages run between steps (the step itself is synchronous).
        await new Promise((r) => setImmediate(r));
        if (o.shouldStop?.()) {
          st.epochSeconds += (performance.now() - since) / 1000;
          save();
          return result('interrupted');
        }
        const idx = st.order.slice(st.stepInEpoch * c.batch, (st.stepInEpoch + 1) * c.batch);
        const lr = lrAt(st.globalStep);
        const loss = await runner.step(idx, rng, lr, adam);
        if (loss === null) {
          if (++skippedInARow >= MAX_SKIPPED_IN_A_ROW)
            throw new Error(`training diverged: ${skippedInARow} steps in a row with a non-finite loss or gradient (lower lr?)`);
          console.warn(`${o.out}: step ${st.globalStep + 1}: the loss or gradient is not finite; this update is skipped`);
        } else {
          skippedInARow = 0;
          st.epochLossSum += loss * idx.length;
          st.epochLossCount += idx.length;
        }
        st.stepInEpoch++;
        st.globalStep++;
        o.onProgress?.({
          epoch: st.epoch,
          epochs: c.epochs,
          step: st.stepInEpoch,
          stepsPerEpoch,
          globalStep: st.globalStep,
          totalSteps: c.epochs * stepsPerEpoch,
          loss: st.epochLossSum / Math.max(1, st.epochLossCount),
          lr,
        });
      }
      st.epochSeconds += (performance.now() - since) / 1000;
      const weights = weightsMap();
      const v = validate(head, weights, valSet, c);
      const record: EpochRecord = {
        epoch: st.epoch,
        trainLoss: st.epochLossSum / Math.max(1, st.epochLossCount),
        valLoss: v.loss,
        valMacroF1: v.macroF1,
        valAccuracy: v.accuracy,
        lr: lrAt(st.globalStep - 1),
        seconds: st.epochSeconds,
      };
      st.history.push(record);
      if (c.keep === 'last' || v.macroF1 > st.bestF1) {
        st.bestF1 = v.macroF1;
        st.bestEpoch = st.epoch;
        writeBest(weights, v);
      }
      writeJsonAtomic(paths.history, st.history);
      st.epoch++;
      st.order = null;
      o.onEpoch?.(record);
      if (c.keep === 'best' && st.epoch - 1 - st.bestEpoch >= c.patience) {
        status = 'early-stopped';
        break;
      }
      if (st.epoch < c.epochs) save();
    }
  } finally {
    await runner.close();
  }
  st.done = true;
  save();
  finishBest(paths.best, st.history.length, status);
  return result(status);
}

/**
 * best/ was written when its epoch finished; record how long training went on in the end. Runs
 * again on a rerun of a finished run (idempotent), so a kill right after the final checkpoint
 * still ends with the same best/ as an uninterrupted run.
 */
function finishBest(dir: string, epochsTrained: number, stopped: TrainResult['status']): void {
  if (!existsSync(join(dir, 'head.json'))) return; // no epoch improved on nothing (cannot happen with F1 >= 0)
  const best = loadHead(dir);
  if (best.head.meta.epochsTrained === epochsTrained && best.head.meta.stopped === stopped) return;
  saveHead(dir, { ...best.head, meta: { ...best.head.meta, epochsTrained, stopped } }, best.weights);
}

function addArrays(a: Float32Array, b: Float32Array): Float32Array {
  return Float32Array.from(a, (v, i) => v + b[i]!);
}
