/**
 * Training from another head and near it (the config's `anchor`, train/anchor.ts): the anchor read
 * back from a models folder's ONNX file and checked, the run learning a difference from it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import { headToOnnx } from '../../src/export/head-onnx.ts';
import { loadHead } from '../../src/head/checkpoint.ts';
import { headParamShapes, type HeadWeights } from '../../src/head/params.ts';
import { upsertHead } from '../../src/manifest-file.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { SUBCLASS_KEYS } from '../../src/train/data.ts';
import { headConfigFor, trainHead } from '../../src/train/loop.ts';
import { runPaths } from '../../src/train/run-dir.ts';
import { loadTrainState } from '../../src/train/state.ts';
import { makeModelsDir, randomHead } from '../extract/test-models.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

const DIM = 12;
const root = mkdtempSync(join(tmpdir(), 'vidkind-anchor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const features = join(root, 'features');
writeSyntheticStore(features, {
  clipsPerSource: 4,
  sourcesPerClass: 4,
  frames: 6,
  dim: DIM,
  seed: 3,
  separation: 2,
  scale: (d) => 10 ** ((d % 3) - 1),
});

// A models folder holding a stats head on the store's backbone ("synthetic"), as an export writes it.
const models = join(root, 'models');
makeModelsDir(models, 'synthetic', DIM);
const statsHead = headConfigFor(parseTrainConfig({ head: 'stats' }), DIM);
const anchorWeights: HeadWeights = randomHead(statsHead, 5);
const headBytes = headToOnnx(statsHead, anchorWeights);
writeFileSync(join(models, 'anchor.onnx'), headBytes);
upsertHead(models, {
  id: 'anchor-1',
  backbone: 'synthetic',
  file: 'anchor.onnx',
  sha256: createHash('sha256').update(headBytes).digest('hex'),
  bytes: headBytes.length,
  frames: 6,
  inputs: { features: 'features' },
  outputs: { logits: 'logits', subLogits: 'sub_logits' },
  classes: [...CLASS_IDS],
  subclasses: SUBCLASS_KEYS,
});

const base = {
  head: 'stats' as const,
  epochs: 2,
  batch: 8,
  seed: 2,
  split: [0.75, 0.25, 0] as [number, number, number],
  standardize: true,
  poolStandardize: true,
  trainFrames: 4,
  anchor: { models, head: 'anchor-1' },
};

describe('a run anchored to a head', () => {
  it("starts at the anchor: with no room to move, best/ is the anchor's weights on raw features", async () => {
    const out = join(root, 'still');
    const r = await trainHead({ features, out, config: parseTrainConfig({ ...base, lr: 1e-12, lrMin: 0 }), resume: false });
    expect(r.status).toBe('finished');
    const { weights } = loadHead(runPaths(out).best);
    for (const [name, v] of anchorWeights) {
      const got = weights.get(name)!;
      const scale = Math.max(1, ...v.map(Math.abs));
      expect(Math.max(...got.map((x, i) => Math.abs(x - v[i]!))) / scale, name).toBeLessThan(1e-4);
    }
    // What trains is the difference from the anchor, which started at 0.
    const sizes = headParamShapes(statsHead).map((s) => s.shape.reduce((a, b) => a * b, 1));
    for (const delta of loadTrainState(runPaths(out).state, sizes).tensors.params)
      expect(Math.max(...delta.map(Math.abs))).toBeLessThan(1e-6);
  });

  it('learns from there: a random anchor is moved to fit the clips', async () => {
    const out = join(root, 'learns');
    const r = await trainHead({
      features,
      out,
      config: parseTrainConfig({ ...base, epochs: 20, lr: 0.05, weightDecay: 0, patience: 100 }),
      resume: false,
    });
    expect(r.bestF1).toBeGreaterThan(0.6);
    const { weights } = loadHead(runPaths(out).best);
    const moved = Math.max(...weights.get('cls/kernel')!.map((x, i) => Math.abs(x - anchorWeights.get('cls/kernel')![i]!)));
    expect(moved).toBeGreaterThan(1e-3);
    // Gradient workers (a second thread) see the anchor too: the same weights, bit for bit.
    const two = join(root, 'learns-2');
    await trainHead({
      features,
      out: two,
      config: parseTrainConfig({ ...base, epochs: 20, lr: 0.05, weightDecay: 0, patience: 100 }),
      resume: false,
      threads: 2,
    });
    expect(loadHead(runPaths(two).best).weights).toEqual(weights);
  });

  it('refuses an anchor that does not fit the run, with the reason', async () => {
    const run = (name: string, config: Record<string, unknown>) =>
      trainHead({ features, out: join(root, name), config: parseTrainConfig({ ...base, ...config }), resume: false });
    await expect(run('attention', { ...TINY_HEAD, head: 'attention', poolStandardize: false })).rejects.toThrow(/only a "stats" head/);
    await expect(run('lbfgs', { solver: 'lbfgs', l2: 1, dropout: 0 })).rejects.toThrow(/"adamw" solver/);
    await expect(run('unknown', { anchor: { models, head: 'nope' } })).rejects.toThrow(/no such head/);
    await expect(run('nowhere', { anchor: { models: join(root, 'none'), head: 'anchor-1' } })).rejects.toThrow(/no manifest\.json/);
    // The file changed after the manifest was written: refused by its sha256.
    const changed = Uint8Array.from(headBytes);
    changed[changed.length - 1]! ^= 0xff;
    writeFileSync(join(models, 'anchor.onnx'), changed);
    try {
      await expect(run('changed', {})).rejects.toThrow(/sha256|does not match/);
    } finally {
      writeFileSync(join(models, 'anchor.onnx'), headBytes);
    }
  });
});
