import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHead } from '../../src/head/checkpoint.ts';
import { headParamShapes } from '../../src/head/params.ts';
import { initBackend } from '../../src/train/backend.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { lbfgs } from '../../src/train/lbfgs.ts';
import { headConfigFor, loadPart, trainHead } from '../../src/train/loop.ts';
import { readRunConfig } from '../../src/train/run-dir.ts';
import { solveStatsHead, statisticsMatrix } from '../../src/train/solve.ts';
import { foldInputStats, inputStats, pooledStats } from '../../src/train/standardize.ts';
import type { EpochRecord } from '../../src/train/run-dir.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

await initBackend();

describe('lbfgs', () => {
  it('finds the minimum of a convex quadratic: x = A⁻¹b', () => {
    // f = ½ xᵀAx − bᵀx with A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]] (positive definite), b = (1, 2, 3).
    const A = [
      [4, 1, 0],
      [1, 3, 1],
      [0, 1, 2],
    ];
    const b = [1, 2, 3];
    const r = lbfgs(
      (x) => {
        const Ax = A.map((row) => row.reduce((s, a, j) => s + a * x[j]!, 0));
        return {
          f: 0.5 * Ax.reduce((s, v, i) => s + v * x[i]!, 0) - b.reduce((s, v, i) => s + v * x[i]!, 0),
          g: Ax.map((v, i) => v - b[i]!),
        };
      },
      new Float64Array(3),
      { maxIterations: 50, gradientTolerance: 1e-10, relativeTolerance: 0 },
    );
    expect(r.reason).toBe('converged');
    // Solved by hand (Cramer's rule, det A = 18): x = (4, 2, 26) / 18.
    [4 / 18, 2 / 18, 26 / 18].forEach((v, i) => expect(r.x[i]).toBeCloseTo(v, 8));
  });

  it('follows the curved valley of Rosenbrock’s function to (1, 1), and stops when asked', () => {
    const rosen = (x: Float64Array) => ({
      f: 100 * (x[1]! - x[0]! ** 2) ** 2 + (1 - x[0]!) ** 2,
      g: [-400 * x[0]! * (x[1]! - x[0]! ** 2) - 2 * (1 - x[0]!), 200 * (x[1]! - x[0]! ** 2)],
    });
    const r = lbfgs(rosen, Float64Array.of(-1.2, 1), { maxIterations: 500, gradientTolerance: 1e-8, relativeTolerance: 0 });
    expect(r.reason).toBe('converged');
    expect(r.x[0]).toBeCloseTo(1, 5);
    expect(r.x[1]).toBeCloseTo(1, 5);
    const seen: number[] = [];
    const stopped = lbfgs(rosen, Float64Array.of(-1.2, 1), {
      maxIterations: 500,
      onIteration: ({ iteration, f }) => {
        seen.push(f);
        return iteration < 2;
      },
    });
    expect(stopped).toMatchObject({ reason: 'stopped', iterations: 3 });
    expect(seen).toHaveLength(3);
    // Every accepted step lowers f (the Armijo condition).
    expect(seen[1]).toBeLessThan(seen[0]!);
    expect(seen[2]).toBeLessThan(seen[1]!);
  });
});

describe('solver "lbfgs" (stats head)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vidkind-solve-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const features = join(root, 'features');
  writeSyntheticStore(features, {
    clipsPerSource: 4,
    sourcesPerClass: 5,
    frames: 8,
    dim: 6,
    seed: 5,
    separation: 0.5,
    scale: (d) => 10 ** (d % 3),
    offset: (d) => d,
  });
  const config = (extra: object = {}) =>
    parseTrainConfig({
      ...TINY_HEAD,
      head: 'stats',
      solver: 'lbfgs',
      epochs: 200,
      trainFrames: 4,
      standardize: true,
      poolStandardize: true,
      focalGamma: 0,
      l2: 0.01,
      dropout: 0,
      keep: 'last',
      seed: 1,
      ...extra,
    });

  it('trains through vidkind train: one record per iteration, the loss falling, no seed in it', async () => {
    const r1 = await trainHead({ features, out: join(root, 's1'), config: config(), resume: false });
    expect(r1.status).toBe('finished');
    const history = JSON.parse(readFileSync(join(root, 's1', 'history.json'), 'utf8')) as EpochRecord[];
    expect(history.length).toBe(r1.epochsTrained);
    expect(history.length).toBeGreaterThan(3);
    expect(history.length).toBeLessThan(200); // converged before the iteration cap
    history.slice(1).forEach((h, i) => expect(h.trainLoss).toBeLessThanOrEqual(history[i]!.trainLoss));
    expect(history.at(-1)!.trainLoss).toBeLessThan(0.9 * history[0]!.trainLoss);
    expect(r1.bestEpoch).toBe(history.length - 1);
    expect(loadHead(join(root, 's1', 'best')).head.meta.bestEpoch).toBe(r1.bestEpoch);
    expect((await trainHead({ features, out: join(root, 's1'), config: config(), resume: true })).status).toBe('already-done');
    // Another seed on the same split: the same weights (the solver starts at zero and draws nothing).
    const split = readRunConfig(join(root, 's1')).split;
    await trainHead({ features, out: join(root, 's9'), config: config({ seed: 9 }), split, resume: false });
    const w = (run: string) => readFileSync(join(root, run, 'best', 'weights.bin'));
    expect(w('s9').equals(w('s1'))).toBe(true);
  });

  it('saves the optimum, folded onto raw features: the penalised cross-entropy’s gradient, by hand, vanishes there', () => {
    const rc = readRunConfig(join(root, 's1'));
    const c = rc.train;
    const set = loadPart(rc, features, 'train');
    const head = headConfigFor(c, set.dim);
    const perFrame = inputStats(set);
    const stats = { ...perFrame, pooled: pooledStats(set, perFrame, 4) };
    const shapes = headParamShapes(head);
    const names = shapes.map((s) => s.name);
    const solved = solveStatsHead({ head, c, set, stats, names, shapes: shapes.map((s) => s.shape), onIteration: () => true });
    expect(solved.reason).toBe('converged');
    // best/ holds these weights with the statistics folded in (standardize.ts foldInputStats).
    const saved = loadHead(join(root, 's1', 'best')).weights;
    const folded = foldInputStats(head, new Map(names.map((n, i) => [n, solved.params[i]!])), stats);
    for (const n of names) Array.from(saved.get(n)!).forEach((v, k) => expect(v).toBeCloseTo(folded.get(n)![k]!, 5));

    const Z = statisticsMatrix(set, stats, 4);
    const S = 2 * set.dim;
    const [K, b, subK, subB] = solved.params as [Float32Array, Float32Array, Float32Array, Float32Array];
    // d/dW of the mean smoothed cross-entropy + l2·|W|²: Zᵀ(P − T)/n + 2·l2·W, for each output layer.
    const gradient = (kernel: Float32Array, bias: Float32Array, labels: Int32Array, C: number, weight: number) => {
      const rows = [...labels.keys()].filter((i) => labels[i]! >= 0);
      const gK = new Float64Array(S * C);
      const gB = new Float64Array(C);
      for (const i of rows) {
        const z = Array.from(
          { length: C },
          (_, q) => bias[q]! + Z.subarray(i * S, (i + 1) * S).reduce((s, v, j) => s + v * kernel[j * C + q]!, 0),
        );
        const max = Math.max(...z);
        const e = z.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let q = 0; q < C; q++) {
          const t = q === labels[i] ? 1 - c.labelSmoothing : c.labelSmoothing / (C - 1);
          const r = (weight * (e[q]! / sum - t)) / rows.length;
          gB[q]! += r;
          for (let j = 0; j < S; j++) gK[j * C + q]! += r * Z[i * S + j]!;
        }
      }
      gK.forEach((_, k) => (gK[k]! += 2 * c.l2 * kernel[k]!));
      return Math.max(...gK.map(Math.abs), ...gB.map(Math.abs));
    };
    expect(gradient(K, b, set.labels, head.classes, 1)).toBeLessThan(1e-4);
    expect(gradient(subK, subB, set.subLabels, head.subclasses, c.subclassWeight)).toBeLessThan(1e-4);
    // Not trivially: the optimum is far from the zero weights it started at.
    expect(Math.max(...K.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('refuses what it cannot do: another head, dropout, balancing', async () => {
    await expect(trainHead({ features, out: join(root, 'attn'), config: config({ head: 'attention' }), resume: false })).rejects.toThrow(
      /stats head/,
    );
    await expect(trainHead({ features, out: join(root, 'drop'), config: config({ dropout: 0.2 }), resume: false })).rejects.toThrow(
      /without "dropout"/,
    );
    await expect(trainHead({ features, out: join(root, 'bal'), config: config({ sourceBalance: 0.5 }), resume: false })).rejects.toThrow(
      /sourceBalance/,
    );
  });
});
