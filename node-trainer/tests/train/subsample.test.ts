import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samplePlan } from '../../../src/core/sampling.ts';
import { decodeHalf } from '../../src/features/float16.ts';
import { initBackend } from '../../src/train/backend.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { binFrames, epochOrder, jitteredBatchTensor, subsampleFrames, type ClipSet } from '../../src/train/data.ts';
import { trainHead } from '../../src/train/loop.ts';
import { loadHead } from '../../src/head/checkpoint.ts';
import { Rng } from '../../src/train/rng.ts';
import type { EpochRecord } from '../../src/train/run-dir.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

/** A set of one clip whose frame t holds the values t*10 + d (as float16 bit patterns, opaque here). */
function set(frames: number, dim: number): ClipSet {
  const half = Uint16Array.from({ length: frames * dim }, (_, i) => Math.floor(i / dim) * 10 + (i % dim));
  return { frames, dim, keys: ['a'], sources: ['s'], labels: Int32Array.of(0), subLabels: Int32Array.of(-1), half: [half] };
}

describe('subsampleFrames', () => {
  it('keeps, for each of n samples, the stored frame nearest its time', () => {
    const s = subsampleFrames(set(32, 2), 16);
    expect(s.frames).toBe(16);
    const frameOf = (j: number) => s.half[0]![j * 2]! / 10;
    expect(Array.from({ length: 16 }, (_, j) => frameOf(j))).toEqual(Array.from({ length: 16 }, (_, j) => 2 * j + 1));
    expect(s.half[0]![3]).toBe(31); // frame 3, second feature
    // Each kept frame is within half a stored bin of the time the app would sample.
    const d = 60;
    const stored = samplePlan(d, { frames: 32 }).timestamps;
    samplePlan(d, { frames: 16 }).timestamps.forEach((t, j) =>
      expect(Math.abs(stored[frameOf(j)]! - t)).toBeLessThanOrEqual(d / 32 / 2 + 1e-9),
    );
  });

  it('returns the set itself for n = T and refuses n outside 1..T', () => {
    const s = set(8, 3);
    expect(subsampleFrames(s, 8)).toBe(s);
    expect(subsampleFrames(s, 1).half[0]![0]).toBe(40);
    expect(() => subsampleFrames(s, 9)).toThrow(RangeError);
    expect(() => subsampleFrames(s, 0)).toThrow(RangeError);
    expect(() => subsampleFrames(s, 2.5)).toThrow(RangeError);
  });
});

describe('binFrames and frame-jittered training batches', () => {
  it('without a draw: the bin centres that subsampleFrames keeps', () => {
    expect(binFrames(32, 16)).toEqual(Array.from({ length: 16 }, (_, j) => 2 * j + 1));
    expect(binFrames(8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('with a draw: one frame inside each bin, ascending, every frame of a bin reachable', () => {
    expect(binFrames(32, 16, () => 0)).toEqual(Array.from({ length: 16 }, (_, j) => 2 * j));
    expect(binFrames(32, 16, () => 0.999)).toEqual(Array.from({ length: 16 }, (_, j) => 2 * j + 1));
    const rng = new Rng(5);
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const picks = binFrames(30, 7, () => rng.next());
      picks.forEach((f, j) => {
        expect(f).toBeGreaterThanOrEqual(Math.floor((j * 30) / 7));
        expect(f).toBeLessThan(Math.floor(((j + 1) * 30) / 7));
        seen.add(f);
      });
      expect([...picks].sort((a, b) => a - b)).toEqual(picks);
    }
    expect(seen.size).toBe(30);
  });

  it('jitteredBatchTensor shows n frames of each clip, each a whole stored frame', async () => {
    await initBackend();
    const stored = set(8, 3);
    const x = jitteredBatchTensor(stored, [0, 0], 4, () => 0.5);
    expect(x.shape).toEqual([2, 4, 3]);
    const decoded = decodeHalf(stored.half[0]!);
    const want = [1, 3, 5, 7].flatMap((f) => Array.from(decoded.subarray(f * 3, f * 3 + 3)));
    expect(Array.from(x.dataSync())).toEqual([...want, ...want]);
    x.dispose();
  });
});

describe('training with trainFrames', () => {
  const root = mkdtempSync(join(tmpdir(), 'vidkind-trainframes-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const features = join(root, 'features');
  writeSyntheticStore(features, { clipsPerSource: 4, sourcesPerClass: 5, frames: 8, dim: 16, seed: 2, separation: 3 });
  const config = (extra: object) =>
    parseTrainConfig({
      ...TINY_HEAD,
      epochs: 8,
      batch: 8,
      patience: 100,
      seed: 4,
      ...extra,
    });

  it('learns the synthetic classes from 4 of 8 frames per step, and refuses more frames than the store holds', async () => {
    const r = await trainHead({ features, out: join(root, 'run4'), config: config({ trainFrames: 4 }), resume: false });
    expect(r.status).toBe('finished');
    expect(r.bestF1).toBeGreaterThan(0.5);
    await expect(trainHead({ features, out: join(root, 'run9'), config: config({ trainFrames: 9 }), resume: false })).rejects.toThrow(
      /trainFrames 9 is more than the 8 frames/,
    );
  });
});

describe('which epoch a run keeps (config keep)', () => {
  const root = mkdtempSync(join(tmpdir(), 'vidkind-keep-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const features = join(root, 'features');
  writeSyntheticStore(features, { clipsPerSource: 4, sourcesPerClass: 5, frames: 8, dim: 16, seed: 3, separation: 0.7 });
  const config = (extra: object) => parseTrainConfig({ ...TINY_HEAD, epochs: 6, batch: 8, patience: 1, seed: 4, lr: 3e-3, ...extra });

  const history = (run: string) =>
    (JSON.parse(readFileSync(join(root, run, 'history.json'), 'utf8')) as EpochRecord[]).map((r) => r.valMacroF1);

  it('"last" runs every epoch whatever the patience and keeps the final one; "best" keeps the best validation epoch', async () => {
    const last = await trainHead({ features, out: join(root, 'last'), config: config({ keep: 'last' }), resume: false });
    expect(last.status).toBe('finished');
    const lastF1s = history('last');
    expect(lastF1s).toHaveLength(6);
    expect(last.bestEpoch).toBe(5);
    expect(last.bestF1).toBe(lastF1s[5]);
    const kept = loadHead(join(root, 'last', 'best'));
    expect(kept.head.meta.bestEpoch).toBe(5);
    expect(kept.head.meta.valMacroF1).toBe(lastF1s[5]);

    const best = await trainHead({ features, out: join(root, 'best'), config: config({ keep: 'best' }), resume: false });
    const f1s = history('best');
    expect(best.bestF1).toBe(Math.max(...f1s));
    expect(best.bestEpoch).toBe(f1s.indexOf(Math.max(...f1s)));
    // patience 1: it stops the first epoch after the best that is not better, or runs to the end.
    expect(f1s.length === 6 || f1s.length === best.bestEpoch + 2).toBe(true);
    expect(() => config({ keep: 'first' })).toThrow();
  });

  it('trainOnVal trains on the validation clips as well, and only with keep "last"', async () => {
    const r = await trainHead({ features, out: join(root, 'tov'), config: config({ keep: 'last', trainOnVal: true }), resume: false });
    expect(r.status).toBe('finished');
    const split = (run: string) =>
      (loadHead(join(root, run, 'best')).head.meta as { splitKeys: { train: string[]; val: string[] } }).splitKeys;
    const plain = split('last');
    expect(plain.val.length).toBeGreaterThan(0);
    expect(plain.train.some((k) => plain.val.includes(k))).toBe(false);
    // The same split (same seed), its validation clips now among the trained ones; validation still logs.
    expect(split('tov').val).toEqual(plain.val);
    expect(split('tov').train).toEqual([...plain.train, ...plain.val].sort());
    expect(history('tov')).toHaveLength(6);
    // More clips per epoch, so other steps and other weights than the plain run's.
    const weights = (run: string) => readFileSync(join(root, run, 'best', 'weights.bin'));
    expect(weights('tov').equals(weights('last'))).toBe(false);
    await expect(
      trainHead({ features, out: join(root, 'tov-best'), config: config({ keep: 'best', trainOnVal: true }), resume: false }),
    ).rejects.toThrow(/trainOnVal/);
  });
});

describe('epoch order with source balancing (config sourceBalance)', () => {
  // Class 0: one source of 40 clips and four of 5; class 1: 20 clips of one source.
  const sources = [
    ...Array.from({ length: 40 }, () => 'big'),
    ...[0, 1, 2, 3].flatMap((s) => Array.from({ length: 5 }, () => `small${s}`)),
  ];
  const set = {
    sources: [...sources, ...Array.from({ length: 20 }, () => 'other')],
    labels: Int32Array.from({ length: 80 }, (_, i) => (i < 60 ? 0 : 1)),
  };

  it('is a shuffled permutation at 0 (every clip once, as before)', () => {
    const order = epochOrder(set, 0, new Rng(1));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(order).toEqual(new Rng(1).shuffle(Array.from({ length: 80 }, (_, i) => i)));
  });

  it('at 1 draws every source of a class equally often, and keeps each class its share of draws', () => {
    const counts = new Map<string, number>();
    let class1 = 0;
    const rng = new Rng(2);
    for (let e = 0; e < 200; e++)
      for (const i of epochOrder(set, 1, rng)) {
        counts.set(set.sources[i]!, (counts.get(set.sources[i]!) ?? 0) + 1);
        if (set.labels[i] === 1) class1++;
      }
    // 200 epochs x 60 class-0 draws shared by 5 sources: 2,400 each (binomial sd ~44).
    for (const s of ['big', 'small0', 'small1', 'small2', 'small3']) expect(Math.abs(counts.get(s)! - 2400), s).toBeLessThan(200);
    expect(Math.abs(class1 - 4000)).toBeLessThan(250);
    // Half-way (0.5): the big source between its unbalanced share (40/60) and the balanced one (1/5).
    const half = epochOrder(set, 0.5, new Rng(3)).concat(...Array.from({ length: 99 }, (_, k) => epochOrder(set, 0.5, new Rng(4 + k))));
    const big = half.filter((i) => set.sources[i] === 'big').length / half.filter((i) => set.labels[i] === 0).length;
    expect(big).toBeGreaterThan(0.3);
    expect(big).toBeLessThan(0.6);
  });

  it('with classBalance 1 draws every class equally often, alone or with source balancing', () => {
    for (const alpha of [0, 1]) {
      const rng = new Rng(5);
      let class1 = 0;
      let draws = 0;
      const perSource = new Map<string, number>();
      for (let e = 0; e < 200; e++)
        for (const i of epochOrder(set, alpha, rng, 1)) {
          draws++;
          if (set.labels[i] === 1) class1++;
          perSource.set(set.sources[i]!, (perSource.get(set.sources[i]!) ?? 0) + 1);
        }
      // 16,000 draws, half of them class 1 (20 of the 80 clips); binomial sd ~63.
      expect(draws).toBe(16_000);
      expect(Math.abs(class1 - 8000), `alpha ${alpha}`).toBeLessThan(300);
      // Within class 0 the sources keep the split sourceBalance gives: 40/60 of it for the big one at 0, 1/5 at 1.
      const big = perSource.get('big')! / (draws - class1);
      expect(Math.abs(big - (alpha === 0 ? 2 / 3 : 1 / 5)), `alpha ${alpha}`).toBeLessThan(0.03);
    }
    // At 0 (the default) the order is the plain shuffle.
    expect(epochOrder(set, 0, new Rng(1), 0)).toEqual(epochOrder(set, 0, new Rng(1)));
  });
});
