import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHalf } from '../../src/features/float16.ts';
import { loadHead } from '../../src/head/checkpoint.ts';
import { headParamShapes, type HeadConfig, type HeadWeights } from '../../src/head/params.ts';
import { initBackend, tf } from '../../src/train/backend.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { initHeadWeights } from '../../src/train/init.ts';
import { headConfigFor, loadPart, trainHead } from '../../src/train/loop.ts';
import { headForward } from '../../src/train/model.ts';
import { weightTensors } from '../../src/train/predict.ts';
import { Rng } from '../../src/train/rng.ts';
import { readRunConfig, runPaths } from '../../src/train/run-dir.ts';
import { normTensors } from '../../src/train/step.ts';
import { loadTrainState } from '../../src/train/state.ts';
import {
  foldInputStats,
  identityStats,
  inputStats,
  pooledHeadTensors,
  pooledStats,
  standardizeTensor,
  unfoldInputStats,
  VARIANCE_FLOOR,
  type InputStats,
} from '../../src/train/standardize.ts';
import { batchTensor, type ClipSet } from '../../src/train/data.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

await initBackend();

/** A set of clips from float values [clips][frames * dim] (stored as float16, as stores hold them). */
function clipSet(values: number[][], frames: number, dim: number): ClipSet {
  return {
    frames,
    dim,
    keys: values.map((_, i) => `k${i}`),
    sources: values.map((_, i) => `s${i}`),
    labels: new Int32Array(values.length),
    subLabels: new Int32Array(values.length).fill(-1),
    half: values.map((v) => Uint16Array.from(v, toHalf)),
  };
}

describe('inputStats', () => {
  it('takes every frame of every clip; floors the variance of a nearly constant dimension', () => {
    // dim 0: 1, 3, 5, 7 (mean 4, variance 5); dim 1: always 2 (variance 0); dim 2: -8, 8, -8, 8 (variance 64).
    const s = inputStats(
      clipSet(
        [
          [1, 2, -8, 3, 2, 8],
          [5, 2, -8, 7, 2, 8],
        ],
        2,
        3,
      ),
    );
    expect(Array.from(s.mean)).toEqual([4, 2, 0]);
    const floor = (VARIANCE_FLOOR * (5 + 0 + 64)) / 3;
    expect(s.scale[0]).toBeCloseTo(1 / Math.sqrt(5 + floor), 6);
    expect(s.scale[1]).toBeCloseTo(1 / Math.sqrt(floor), 5);
    expect(s.scale[2]).toBeCloseTo(1 / Math.sqrt(64 + floor), 6);
  });
});

describe('pooledStats', () => {
  it("takes each clip's mean and standard deviation over the bin-centre frames, then their mean and spread over the clips", () => {
    // One dimension, 4 stored frames, 2 sampled (bin centres: frames 1 and 3).
    const set = clipSet(
      [
        [9, 1, 9, 3],
        [9, 5, 9, 9],
        [0, 2, 0, 2],
      ],
      4,
      1,
    );
    const p = pooledStats(set, identityStats(1), 2);
    // Clip means 2, 7, 2 and standard deviations 1, 2, 0 (plus STATS_EPS under the root).
    expect(p.mean[0]).toBeCloseTo(11 / 3, 6);
    expect(p.mean[1]).toBeCloseTo(1, 6);
    const varMean = (2 * (2 - 11 / 3) ** 2 + (7 - 11 / 3) ** 2) / 3;
    const varSd = 2 / 3;
    expect(p.scale[0]).toBeCloseTo(1 / Math.sqrt(varMean * (1 + VARIANCE_FLOOR)), 5);
    expect(p.scale[1]).toBeCloseTo(1 / Math.sqrt(varSd * (1 + VARIANCE_FLOOR)), 5);
    // After a per-frame standardisation, of the standardised frames.
    const q = pooledStats(set, { mean: Float32Array.of(2), scale: Float32Array.of(0.5) }, 2);
    expect(q.mean[0]).toBeCloseTo((11 / 3 - 2) * 0.5, 6);
    expect(q.mean[1]).toBeCloseTo(0.5, 6);
  });
});

/** The trained weights on standardised `x` (a) and the folded weights on raw `x` (b). */
function onStandardisedAndFolded(c: HeadConfig, w: HeadWeights, x: tf.Tensor3D, stats: InputStats) {
  const norm = { mean: tf.tensor1d(stats.mean), scale: tf.tensor1d(stats.scale) };
  return {
    a: headForward(c, weightTensors(c, w), standardizeTensor(x, norm)),
    b: headForward(c, weightTensors(c, foldInputStats(c, w, stats)), x),
  };
}
const diff = (p: tf.Tensor, q: tf.Tensor) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!;

/** A stats head on 6 features with random weights, 3 clips of 4 frames on very different scales, and per-frame statistics for them. */
function statsHeadCase(seed: number) {
  const c = headConfigFor(parseTrainConfig({ head: 'stats', dropout: 0 }), 6);
  const rng = new Rng(seed);
  const w = initHeadWeights(c, rng);
  const D = c.featureDim;
  const raw = Float32Array.from({ length: 3 * 4 * D }, (_, i) => rng.uniform(-1, 1) * 10 ** ((i % D) - 2) + (i % D) * 3);
  const perFrame = {
    mean: Float32Array.from({ length: D }, (_, d) => d * 3 + 0.01),
    scale: Float32Array.from({ length: D }, (_, d) => 10 ** (2 - d)),
  };
  return { c, w, x: tf.tensor3d(raw, [3, 4, D]), perFrame };
}

describe('foldInputStats', () => {
  it('weights on raw features give what the trained weights give on standardised ones', () => {
    const c = headConfigFor(parseTrainConfig({ projDim: 12, lstmHidden: 6, lstmLayers: 1, attnHeads: 2, poolHidden: 5, dropout: 0 }), 10);
    const rng = new Rng(3);
    const w = initHeadWeights(c, rng);
    // Dimensions on very different scales and offsets, as pooled taps are.
    const D = c.featureDim;
    const raw = Float32Array.from({ length: 2 * 5 * D }, (_, i) => rng.uniform(-1, 1) * 10 ** ((i % D) - 4) + (i % D) * 3);
    const stats = {
      mean: Float32Array.from({ length: D }, (_, d) => d * 3 + 0.01),
      scale: Float32Array.from({ length: D }, (_, d) => 10 ** (4 - d)),
    };
    const { a, b } = onStandardisedAndFolded(c, w, tf.tensor3d(raw, [2, 5, D]), stats);
    expect(diff(a.logits, b.logits)).toBeLessThan(1e-4);
    expect(diff(a.attention, b.attention)).toBeLessThan(1e-5);
    // Only the input projection changes.
    const f = foldInputStats(c, w, stats);
    for (const [name, t] of w) if (!name.startsWith('proj/')) expect(f.get(name)).toBe(t);
    expect(() => foldInputStats(c, w, { mean: new Float32Array(3), scale: new Float32Array(3) })).toThrow(/3 dimensions, the head 10/);
  });

  it('folds into a stats head the same way, mean rows with the shift and standard-deviation rows scaled', () => {
    const { c, w, x, perFrame: stats } = statsHeadCase(5);
    const { a, b } = onStandardisedAndFolded(c, w, x, stats);
    expect(diff(a.logits, b.logits)).toBeLessThan(1e-4);
    expect(diff(a.subLogits!, b.subLogits!)).toBeLessThan(1e-4);
    expect(diff(a.attention, b.attention)).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(a.logits)).dataSync()[0]).toBeGreaterThan(0.01);
  });
});

describe('foldInputStats with pooled statistics', () => {
  it('a stats head: folded weights on raw features give what the trained weights give on the pooled-standardised statistics', () => {
    const { c, w, x, perFrame } = statsHeadCase(9);
    const D = c.featureDim;
    const pooled = {
      mean: Float32Array.from({ length: 2 * D }, (_, r) => (r % 3) - 1),
      scale: Float32Array.from({ length: 2 * D }, (_, r) => 0.5 + r / 4),
    };
    const stats: InputStats = { ...perFrame, pooled };
    // What training computes: the trained weights through pooledHeadTensors, on per-frame-standardised frames.
    const norm = normTensors(stats)!;
    const a = headForward(c, pooledHeadTensors(weightTensors(c, w), norm.pooled!), standardizeTensor(x, norm));
    const b = headForward(c, weightTensors(c, foldInputStats(c, w, stats)), x);
    expect(diff(a.logits, b.logits)).toBeLessThan(1e-4);
    expect(diff(a.subLogits!, b.subLogits!)).toBeLessThan(1e-4);
    expect(diff(a.attention, b.attention)).toBeLessThan(1e-4);
    // And by hand: the statistics vector standardised, then the layer.
    const m = tf.mean(standardizeTensor(x, norm), 1);
    const sd = tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(standardizeTensor(x, norm), tf.expandDims(m, 1))), 1), 1e-12));
    const z = tf.mul(tf.sub(tf.concat([m, sd], 1), tf.tensor1d(pooled.mean)), tf.tensor1d(pooled.scale));
    const byHand = tf.add(tf.matMul(z, tf.tensor2d(w.get('cls/kernel')!, [2 * D, c.classes])), tf.tensor1d(w.get('cls/bias')!));
    expect(diff(byHand, b.logits)).toBeLessThan(1e-4);
    expect(() => foldInputStats(headConfigFor(parseTrainConfig({}), D), w, stats)).toThrow(/stats head/);
  });
});

describe('unfoldInputStats', () => {
  it('takes folded weights back to the standardised view they came from, with and without pooled statistics', () => {
    const { c, w, perFrame } = statsHeadCase(11);
    const D = c.featureDim;
    const pooled = {
      mean: Float32Array.from({ length: 2 * D }, (_, r) => (r % 3) - 1),
      scale: Float32Array.from({ length: 2 * D }, (_, r) => 0.5 + r / 4),
    };
    for (const stats of [perFrame, { ...perFrame, pooled }] as InputStats[]) {
      const back = unfoldInputStats(c, foldInputStats(c, w, stats), stats);
      for (const [name, v] of w) {
        const scale = Math.max(1, ...v.map(Math.abs));
        expect(Math.max(...back.get(name)!.map((x, i) => Math.abs(x - v[i]!))) / scale, name).toBeLessThan(1e-4);
      }
    }
    expect(() => unfoldInputStats(headConfigFor(parseTrainConfig({}), D), w, perFrame)).toThrow(/stats head/);
  });
});

describe('training with standardize', () => {
  const root = mkdtempSync(join(tmpdir(), 'vidkind-standardize-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const features = join(root, 'features');
  // Dimension d spans 10^-2 .. 10^2 times the signal, plus an offset that grows with d.
  writeSyntheticStore(features, {
    clipsPerSource: 4,
    sourcesPerClass: 5,
    frames: 6,
    dim: 16,
    seed: 7,
    separation: 3,
    scale: (d) => 10 ** ((d % 5) - 2),
    offset: (d) => d * 4,
  });
  const config = parseTrainConfig({
    ...TINY_HEAD,
    epochs: 6,
    batch: 8,
    patience: 100,
    seed: 4,
    standardize: true,
  });

  it('learns; best/ takes the raw features and gives what the trained weights give on standardised ones', async () => {
    const r = await trainHead({ features, out: join(root, 'run'), config, resume: false });
    expect(r.status).toBe('finished');
    expect(r.bestF1).toBeGreaterThan(0.5);

    // One epoch: best/ is the final state's weights, which the state checkpoint holds unfolded.
    const out = join(root, 'one');
    await trainHead({ features, out, config: { ...config, epochs: 1 }, resume: false });
    const rc = readRunConfig(out);
    const { head, weights } = loadHead(runPaths(out).best);
    const shapes = headParamShapes(head.config);
    const trained = loadTrainState(
      runPaths(out).state,
      shapes.map((s) => s.shape.reduce((a, b) => a * b, 1)),
    ).tensors.params;
    const stats = inputStats(loadPart(rc, features, 'train'));
    const val = loadPart(rc, features, 'val');
    const x = batchTensor(val, [0, 1, 2, 3]);
    const norm = { mean: tf.tensor1d(stats.mean), scale: tf.tensor1d(stats.scale) };
    const onRaw = headForward(head.config, weightTensors(head.config, weights), x).logits;
    const onStandardised = headForward(
      head.config,
      weightTensors(head.config, new Map(shapes.map((s, i) => [s.name, trained[i]!]))),
      standardizeTensor(x, norm),
    ).logits;
    expect(tf.max(tf.abs(tf.sub(onRaw, onStandardised))).dataSync()[0]).toBeLessThan(1e-3);
    expect(tf.max(tf.abs(onRaw)).dataSync()[0]).toBeGreaterThan(0.01);
  });

  it('trains a stats head with poolStandardize (and refuses it for the attention head)', async () => {
    const out = join(root, 'pooled');
    const r = await trainHead({
      features,
      out,
      config: { ...config, head: 'stats', lr: 1e-2, standardize: false, poolStandardize: true, l2: 0.01, weightDecay: 0 },
      resume: false,
    });
    expect(r.status).toBe('finished');
    expect(r.bestF1).toBeGreaterThan(0.5);
    expect(readRunConfig(out).train.poolStandardize).toBe(true);
    // One epoch: best/ is the final state's weights, which the state checkpoint holds unfolded.
    const one = join(root, 'pooled-one');
    const pooledConfig = { ...config, head: 'stats' as const, lr: 1e-2, standardize: false, poolStandardize: true, epochs: 1 };
    await trainHead({ features, out: one, config: pooledConfig, resume: false });
    const { head, weights } = loadHead(runPaths(one).best);
    const rc = readRunConfig(one);
    // best/ takes raw features: its logits on raw validation clips match the trained weights on the pooled-standardised statistics.
    const shapes = headParamShapes(head.config);
    const trained = loadTrainState(
      runPaths(one).state,
      shapes.map((s) => s.shape.reduce((a, b) => a * b, 1)),
    ).tensors.params;
    const trainSet = loadPart(rc, features, 'train');
    const pooled = pooledStats(trainSet, identityStats(trainSet.dim), trainSet.frames);
    const tensors = normTensors({ ...identityStats(trainSet.dim), pooled })!.pooled!;
    const x = batchTensor(loadPart(rc, features, 'val'), [0, 1, 2, 3]);
    const onRaw = headForward(head.config, weightTensors(head.config, weights), x).logits;
    const onPooled = headForward(
      head.config,
      pooledHeadTensors(weightTensors(head.config, new Map(shapes.map((s, i) => [s.name, trained[i]!]))), tensors),
      x,
    ).logits;
    expect(tf.max(tf.abs(tf.sub(onRaw, onPooled))).dataSync()[0]).toBeLessThan(1e-3);
    await expect(
      trainHead({ features, out: join(root, 'pooled-attn'), config: { ...config, poolStandardize: true }, resume: false }),
    ).rejects.toThrow(/poolStandardize/);
  });

  it('trains a stats head too', async () => {
    const r = await trainHead({ features, out: join(root, 'stats'), config: { ...config, head: 'stats', lr: 1e-2 }, resume: false });
    expect(r.status).toBe('finished');
    expect(r.bestF1).toBeGreaterThan(0.5);
    const { head, weights } = loadHead(runPaths(join(root, 'stats')).best);
    expect(head.config.kind).toBe('stats');
    expect([...weights.keys()].sort()).toEqual(['cls/bias', 'cls/kernel', 'sub/bias', 'sub/kernel']);
  });
});
