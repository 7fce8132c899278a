/**
 * The whole node-trainer pipeline through the CLI, as a user runs it: extract -> train (a few
 * steps) -> eval -> export -> classify, on lavfi clips of four looks with a real (tiny, untrained) backbone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type SuccessResult } from '../../../src/core/result.ts';
import { softmax } from '../../../src/core/postprocess.ts';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import { readIndex, readItemFeatures } from '../../src/features/store.ts';
import { loadHead } from '../../src/head/checkpoint.ts';
import { referenceForward } from '../../src/head/reference-forward.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
import { makeClip, makeModelsDir, TOY_SOURCES } from '../extract/test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
let dir = '';
const vidkind = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
const labelOf = new Map<string, string>();
const SUBCLASS = { animation: 'cartoon-2d', gaming: 'arcade', natural: 'landscape', flat: 'slides' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidkind-e2e-'));
  makeModelsDir(join(dir, 'models'));
  mkdirSync(join(dir, 'videos'));
  const lines = ['path,class,subclass,source'];
  for (const [cls, src] of Object.entries(TOY_SOURCES))
    for (let s = 0; s < 4; s++) {
      const name = `${cls}-${s}.mp4`;
      makeClip(join(dir, 'videos', name), src(s), 1.5);
      lines.push(`${name},${cls},${SUBCLASS[cls as keyof typeof SUBCLASS]},${cls}-source-${s}`);
      labelOf.set(join(dir, 'videos', name), cls);
    }
  writeFileSync(join(dir, 'labels.csv'), lines.join('\n') + '\n');
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extract -> train -> eval -> export -> classify', () => {
  it('produces site-ready models whose headless results are valid and learned from the labels', () => {
    const models = join(dir, 'models');
    const features = join(dir, 'features');
    const run = join(dir, 'run');

    const ex = vidkind(
      'extract',
      '--videos',
      join(dir, 'videos'),
      '--labels',
      join(dir, 'labels.csv'),
      '--backbone',
      'tiny-test',
      '--models',
      models,
      '--out',
      features,
      '--frames',
      '8',
      '--no-progress',
    );
    expect(ex.status, ex.stderr).toBe(0);
    expect(readIndex(features)).toHaveLength(16);

    const config = {
      epochs: 20,
      batch: 4,
      projDim: 16,
      lstmHidden: 8,
      lstmLayers: 1,
      attnHeads: 2,
      poolHidden: 8,
      dropout: 0,
      lr: 0.01,
      split: [0.5, 0.25, 0.25],
      patience: 30,
    };
    const tr = vidkind('train', '--features', features, '--out', run, '--config', JSON.stringify(config), '--no-progress');
    expect(tr.status, tr.stderr).toBe(0);

    // Calibration and test metrics, which export copies into the manifest.
    const ev = vidkind('eval', '--run', run);
    expect(ev.status, ev.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));

    const exp = vidkind('export', '--run', run, '--to', models, '--id', 'e2e', '--test-model');
    expect(exp.status, exp.stderr).toBe(0);
    const summary = JSON.parse(exp.stdout.trim().split('\n').pop()!);
    expect(summary.parity[0].tfjs).toBeLessThanOrEqual(1e-4);
    const manifest = readManifestFile(models);
    expect(manifest.defaultEnsemble).toBe('e2e');
    expect(manifest.ensembles[0]).toMatchObject({ temperature: metrics.temperature, oodThreshold: metrics.oodThreshold });
    expect(manifest.ensembles[0]!.metrics).toMatchObject({ split: 'test', clips: metrics.clips, accuracy: metrics.accuracy });
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8')).toMatch(/## Ensemble `e2e`/);

    const cl = vidkind('classify', join(dir, 'videos'), '--models', models, '--no-progress');
    expect(cl.status, cl.stderr).toBe(0);
    const results = cl.stdout
      .trim()
      .split('\n')
      .map((l) => ResultSchema.parse(JSON.parse(l)) as SuccessResult);
    expect(results).toHaveLength(16);
    for (const r of results) expect(r.models).toMatchObject({ ensemble: 'e2e', backbones: ['tiny-test'], provider: 'onnxruntime-node' });
    // Headless inference agrees with the trained head on the extracted (float16) features: same
    // decode, same preprocessing, same backbone; probabilities within 0.02 (ARCHITECTURE.md).
    const { head, weights } = loadHead(join(run, 'best'));
    const T = manifest.ensembles[0]!.temperature;
    const items = new Map(readIndex(features).map((it) => [join(dir, 'videos', it.path), it.key]));
    for (const r of results) {
      const ref = referenceForward(head.config, weights, readItemFeatures(features, items.get(r.file)!), 1, 8);
      const p = softmax(ref.logits, T);
      CLASS_IDS.forEach((c, i) => expect(Math.abs(r.probs[c] - p[i]!)).toBeLessThan(0.02));
    }
    // Four visually distinct looks, a few dozen steps on eight clips: clearly above chance (4 of 16).
    const correct = results.filter((r) => r.label === labelOf.get(r.file)).length;
    expect(correct).toBeGreaterThanOrEqual(7);
  }, 600_000);
});
