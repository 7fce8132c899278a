/**
 * Data-parallel training steps (src/train/step.ts): shard gradients add up to the batch's, the
 * result depends on config.shards but not on the threads that computed the shards, a failing worker
 * fails the step with its message, and runs made before `shards` existed resume as one pass.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndex } from '../../src/features/store.ts';
import { headParamShapes } from '../../src/head/params.ts';
import { initBackend } from '../../src/train/backend.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { loadClipSet } from '../../src/train/data.ts';
import { initHeadWeights } from '../../src/train/init.ts';
import { headConfigFor, trainHead } from '../../src/train/loop.ts';
import { newAdamWState } from '../../src/train/optim.ts';
import { Rng } from '../../src/train/rng.ts';
import { readRunConfig, runPaths } from '../../src/train/run-dir.ts';
import { batchGradients, BLOCK, shardsOf, StepRunner, type StepContext } from '../../src/train/step.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vidkind-step-'));
const features = join(root, 'features');
const [frames, dim] = [6, 12];
beforeAll(async () => {
  await initBackend();
  writeSyntheticStore(features, { clipsPerSource: 3, sourcesPerClass: 3, frames, dim, seed: 9 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh context (new parameter arrays) on every clip of the store. */
function context(config: Partial<TrainConfig>): StepContext {
  const c = parseTrainConfig({ ...TINY_HEAD, lstmLayers: 2, seed: 3, ...config });
  const head = headConfigFor(c, dim);
  const shapes = headParamShapes(head);
  const w = initHeadWeights(head, new Rng(c.seed));
  const items = readIndex(features).sort((a, b) => (a.key < b.key ? -1 : 1));
  return {
    head,
    names: shapes.map((s) => s.name),
    shapes: shapes.map((s) => s.shape),
    params: shapes.map((s) => w.get(s.name)!),
    set: loadClipSet(features, items, frames, dim),
    c,
    stats: null,
  };
}

/** Runs `steps` steps of 10 clips each on `threads` threads; returns the losses and final parameters. */
async function train(config: Partial<TrainConfig>, threads: number, steps = 3) {
  const ctx = context(config);
  const adam = newAdamWState(ctx.params);
  const runner = await StepRunner.start(ctx, adam, threads);
  const rng = new Rng(5);
  const losses: Array<number | null> = [];
  try {
    for (let s = 0; s < steps; s++) {
      const idx = rng.shuffle(Array.from({ length: ctx.set.labels.length }, (_, i) => i)).slice(0, 10);
      losses.push(await runner.step(idx, rng, 1e-2, adam));
    }
  } finally {
    await runner.close();
  }
  return { losses, params: ctx.params.map((p) => Float32Array.from(p)), threads: runner.threads };
}

describe('data-parallel training steps', () => {
  it('cuts a batch into contiguous shards of nearly equal size', () => {
    expect(shardsOf([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(shardsOf([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6, 7],
    ]);
    expect(shardsOf([1, 2], 4)).toEqual([[1], [2]]);
  });

  it('shard losses and gradients, each divided by the whole batch label counts, add up to the batch', () => {
    // No dropout and every frame: the pass is deterministic, so only the split differs.
    const ctx = context({ dropout: 0, subclassWeight: 0.5 });
    const idx = [0, 1, 2, 5, 8, 13, 21, 30, 34, 35];
    const whole = batchGradients(ctx, undefined, idx, new Rng(1));
    const den = {
      main: idx.length,
      sub: idx.filter((i) => ctx.set.subLabels[i]! >= 0).length,
    };
    // The synthetic store leaves every third clip without a subclass: the shards' counts differ.
    expect(den.sub).toBeLessThan(idx.length);
    const parts = shardsOf(idx, 3).map((p) => batchGradients(ctx, undefined, p, new Rng(1), den));
    expect(parts.reduce((s, p) => s + p.loss, 0)).toBeCloseTo(whole.loss, 5);
    whole.grads.forEach((g, k) => {
      const scale = Math.max(...g.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < g.length; i++) {
        const sum = parts.reduce((s, p) => s + p.grads[k]![i]!, 0);
        expect(Math.abs(sum - g[i]!)).toBeLessThan(1e-4 * scale + 1e-7);
      }
    });
  });

  it('gives bit-identical parameters on one thread and on two (shards 2 and 3), with dropout and frame jitter', async () => {
    // The last head has several update blocks, so the two threads each update a part of them.
    expect(headParamShapes(context({ lstmHidden: 96 }).head).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0)).toBeGreaterThan(
      4 * BLOCK,
    );
    for (const extra of [{ shards: 2 }, { shards: 3 }, { shards: 2, lstmHidden: 96 }]) {
      const config = { ...extra, dropout: 0.3, inputDropout: 0.1, trainFrames: 4 };
      const one = await train(config, 1);
      const two = await train(config, 2);
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      expect(two.losses).toEqual(one.losses);
      expect(one.losses.every((l) => l !== null && Number.isFinite(l))).toBe(true);
      two.params.forEach((p, k) => expect(Buffer.from(p.buffer).equals(Buffer.from(one.params[k]!.buffer))).toBe(true));
    }
  });

  it('trains with mixup: finite losses, the same on one thread and two, and another result than without', async () => {
    const config = { shards: 2, dropout: 0.3, trainFrames: 4, mixup: 0.4 };
    const one = await train(config, 1);
    const two = await train(config, 2);
    expect(one.losses.every((l) => l !== null && Number.isFinite(l))).toBe(true);
    expect(two.losses).toEqual(one.losses);
    const plain = await train({ ...config, mixup: 0 }, 1);
    expect(plain.losses[0]).not.toBe(one.losses[0]);
  });

  it('changes the result with the number of shards (each shard draws its own dropout)', async () => {
    const a = await train({ shards: 1, dropout: 0.3 }, 1, 1);
    const b = await train({ shards: 2, dropout: 0.3 }, 1, 1);
    expect(b.losses[0]).not.toBe(a.losses[0]);
  });

  it("fails the step with the worker's message when a worker's shard fails, and the runner can still close", async () => {
    const ctx = context({ shards: 2 });
    const adam = newAdamWState(ctx.params);
    const runner = await StepRunner.start(ctx, adam, 2);
    // Clip 999 does not exist: shard 1 (the worker's) cannot be built.
    await expect(runner.step([0, 1, 2, 999], new Rng(1), 1e-2, adam)).rejects.toThrow(/gradient worker 1/);
    await runner.close();
  });

  it('trains a run on two threads, and resumes a run from before `shards` as one pass per batch', async () => {
    const out = join(root, 'run');
    const config = parseTrainConfig({ ...TINY_HEAD, epochs: 2, batch: 8, seed: 4 });
    expect(config.shards).toBe(2);
    const r = await trainHead({ features, out, config, resume: false, threads: 2 });
    expect(r.status).toBe('finished');
    expect(readRunConfig(out).train.shards).toBe(2);
    // A run directory written before the field existed: its config has no `shards`.
    const file = runPaths(out).config;
    const old = JSON.parse(readFileSync(file, 'utf8')) as { train: Record<string, unknown> };
    delete old.train.shards;
    writeFileSync(file, JSON.stringify(old));
    expect(readRunConfig(out).train.shards).toBe(1);
  });
});
