/** `vidkind export` on run directories holding real checkpoints (random weights): files, manifest, card, parity gate. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { CLASS_IDS, DEFAULT_TAXONOMY, flattenSubclasses } from '../../../src/core/taxonomy.ts';
import { exportRun } from '../../src/export/export-run.ts';
import { saveHead } from '../../src/head/checkpoint.ts';
import { HeadConfigSchema, type HeadConfig } from '../../src/head/params.ts';
import { referenceForward } from '../../src/head/reference-forward.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
import { makeModelsDir, randomFloats, randomHead } from '../extract/test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
const SUBS = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);
const config: HeadConfig = HeadConfigSchema.parse({
  featureDim: 16,
  projDim: 16,
  lstmHidden: 8,
  lstmLayers: 2,
  attnHeads: 2,
  poolHidden: 8,
  subclasses: SUBS.length,
});

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vidkind-export-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function writeMember(dir: string, seed: number, poison = false, head: HeadConfig = config) {
  const w = randomHead(head, seed);
  if (poison) w.get('cls/bias')![0] = Number.NaN;
  saveHead(
    join(dir, 'best'),
    { format: 'vidkind-head/1', config: head, backbone: 'tiny-test', frames: 8, classes: [...CLASS_IDS], subclasses: SUBS, meta: {} },
    w,
  );
  writeFileSync(
    join(dir, 'history.json'),
    JSON.stringify([
      { epoch: 0, trainLoss: 1, valLoss: 1, valMacroF1: 0.5, valAccuracy: 0.6, lr: 1e-3, seconds: 1 },
      { epoch: 1, trainLoss: 0.8, valLoss: 0.9, valMacroF1: 0.7, valAccuracy: 0.75, lr: 1e-3, seconds: 1 },
    ]),
  );
  return w;
}

describe('exportRun', () => {
  it('says in the card when a run has no test split (trained on every source): its validation figures are not an estimate', async () => {
    const root = tmp();
    const models = join(root, 'models');
    makeModelsDir(models);
    const run = join(root, 'all-sources');
    writeMember(run, 3);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ data: { frames: 8, clips: { train: 90, val: 10, test: 0 } } }));
    writeFileSync(
      join(run, 'metrics.json'),
      JSON.stringify({
        split: 'val',
        clips: 10,
        accuracy: 0.9,
        macroF1: 0.88,
        temperature: 0.3,
        oodThreshold: 0.8,
        calibratedOn: 'cross-validation',
        calibrationClips: 500,
      }),
    );
    const r = await exportRun({ run, to: models, testModel: true, tfjsParity: false });
    expect(r.ensemble).toMatchObject({ temperature: 0.3, metrics: { split: 'val', clips: 10 } });
    const card = readFileSync(join(models, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('No test split: these models trained on every source but the validation ones');
    expect(card).toContain('both fitted on the 500 held-out clips of the cross-validation below');

    // Trained on the validation clips too, by the L-BFGS solver: the card says the figures are in-sample,
    // and lists the solver's settings without AdamW's.
    const train = {
      solver: 'lbfgs',
      trainOnVal: true,
      l2: 0.1,
      epochs: 300,
      lr: 0.001,
      batch: 32,
      weightDecay: 50,
      keep: 'last',
      mixup: 0,
    };
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train, data: { frames: 8, clips: { train: 90, val: 10, test: 0 } } }));
    const models2 = join(root, 'models2');
    makeModelsDir(models2);
    await exportRun({ run, to: models2, testModel: true, tfjsParity: false });
    const card2 = readFileSync(join(models2, 'MODEL_CARD.md'), 'utf8');
    expect(card2).toContain('No held-out split: these models trained on every source, the validation ones too (trainOnVal)');
    expect(card2).not.toContain('No test split');
    expect(card2).toContain('- Training: solver lbfgs, epochs 300, l2 0.1, keep last, trainOnVal true (full-batch L-BFGS');
  });

  it('exports an ensemble: ONNX files matching their checkpoints, valid manifest entries, one model-card section', async () => {
    const root = tmp();
    const models = join(root, 'models');
    makeModelsDir(models);
    const run = join(root, 'toy-run');
    const w1 = writeMember(join(run, 'members', '1'), 1);
    writeMember(join(run, 'members', '2'), 2);
    writeFileSync(join(run, 'ensemble.json'), JSON.stringify({ format: 'vidkind-ensemble/1', members: ['members/1', 'members/2'] }));
    // As `vidkind eval` writes it (abridged): ensemble metrics at the top, one entry per member.
    const score = (f1: number) => ({ precision: f1, recall: f1, f1, support: 10 });
    writeFileSync(
      join(run, 'metrics.json'),
      JSON.stringify({
        format: 'vidkind-metrics/1',
        split: 'test',
        clips: 40,
        accuracy: 0.9,
        macroF1: 0.88,
        perClass: { animation: score(0.8), gaming: score(0.9), natural: score(0.95), flat: score(0.87) },
        confusion: [
          [9, 1, 0, 0],
          [0, 10, 0, 0],
          [0, 0, 10, 0],
          [1, 0, 1, 8],
        ],
        temperature: 1.7,
        oodThreshold: 0.66,
        members: [
          { dir: 'members/1', accuracy: 0.85, macroF1: 0.83, history: [] },
          { dir: 'members/2', accuracy: 0.8, macroF1: 0.79, history: [] },
        ],
      }),
    );

    const r = await exportRun({ run, to: models, testModel: true, tfjsParity: false });
    expect(r.ensemble).toMatchObject({ id: 'toy-run', members: ['toy-run-m1', 'toy-run-m2'], temperature: 1.7, oodThreshold: 0.66 });
    expect(r.ensemble.metrics).toEqual({
      split: 'test',
      clips: 40,
      accuracy: 0.9,
      macroF1: 0.88,
      perClassF1: { animation: 0.8, gaming: 0.9, natural: 0.95, flat: 0.87 },
    });
    const m = readManifestFile(models);
    expect(m.defaultEnsemble).toBe('toy-run');
    expect(m.heads.map((h) => h.id)).toEqual(['toy-run-m1', 'toy-run-m2']);
    const h1 = m.heads[0]!;
    expect(h1).toMatchObject({
      backbone: 'tiny-test',
      frames: 8,
      inputs: { features: 'features' },
      outputs: { logits: 'logits', subLogits: 'sub_logits', attention: 'attention' },
      subclasses: SUBS,
      testModel: true,
      metrics: { split: 'test', clips: 40, accuracy: 0.85, macroF1: 0.83 },
    });
    const bytes = readFileSync(join(models, h1.file));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(h1.sha256);
    for (const p of r.parity) expect(p.passed).toBe(true);

    // The file on disk computes the checkpoint's function, at a T other than the training one.
    const session = await ort.InferenceSession.create(bytes);
    const x = randomFloats(2 * 5 * 16, 11, 1);
    const out = await session.run({ features: new ort.Tensor('float32', x, [2, 5, 16]) });
    const ref = referenceForward(config, w1, x, 2, 5);
    expect(out.attention!.dims).toEqual([2, 5]);
    (out.logits!.data as Float32Array).forEach((v, i) => expect(Math.abs(v - ref.logits[i]!)).toBeLessThan(1e-4));
    await session.release();

    const card = readFileSync(join(models, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/## Ensemble `toy-run`/);
    expect(card).toMatch(/Test model/);
    expect(card).toMatch(/\| ensemble `toy-run` \| test \| 40 \| 90\.0% \| 88\.0% \|/);
    expect(card).toMatch(/Calibration temperature 1\.7/);
    // Re-export replaces its section instead of adding another.
    await exportRun({ run, to: models, testModel: true, tfjsParity: false });
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8').match(/## Ensemble `toy-run`/g)).toHaveLength(1);

    // Fewer frames for the app only once the run was scored at that count.
    await expect(exportRun({ run, to: models, testModel: true, tfjsParity: false, frames: 4 })).rejects.toThrow(/vidkind eval --frames 4/);
    await expect(exportRun({ run, to: models, testModel: true, tfjsParity: false, frames: 9 })).rejects.toThrow(/from 1 to 8/);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    writeFileSync(join(run, 'metrics.json'), JSON.stringify({ ...metrics, frames: 4 }));
    await exportRun({ run, to: models, testModel: true, tfjsParity: false, frames: 4 });
    expect(readManifestFile(models).heads.map((h) => h.frames)).toEqual([4, 4]);
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8')).toMatch(/The app samples 4 frames per video/);

    // Re-exported as one member alone under the same id: the two old heads and their files go.
    await exportRun({ run: join(run, 'members', '2'), to: models, id: 'toy-run', testModel: true, tfjsParity: false });
    const after = readManifestFile(models);
    expect(after.heads.map((h) => h.id)).toEqual(['toy-run']);
    expect(after.ensembles).toEqual([expect.objectContaining({ id: 'toy-run', members: ['toy-run'] })]);
    expect(existsSync(join(models, h1.file))).toBe(false);
    expect(existsSync(join(models, 'heads', 'toy-run.onnx'))).toBe(true);
  });

  it('exports a stats head: the file computes the checkpoint, attention over the frames, and the card names the architecture', async () => {
    const root = tmp();
    const models = join(root, 'models');
    makeModelsDir(models);
    const stats = HeadConfigSchema.parse({ kind: 'stats', featureDim: 16, subclasses: SUBS.length });
    const w = writeMember(join(root, 'stats-run'), 3, false, stats);
    const r = await exportRun({ run: join(root, 'stats-run'), to: models, testModel: true });
    expect(r.parity.every((p) => p.passed)).toBe(true);
    const h = readManifestFile(models).heads[0]!;
    expect(h.outputs).toEqual({ logits: 'logits', subLogits: 'sub_logits', attention: 'attention' });
    const session = await ort.InferenceSession.create(readFileSync(join(models, h.file)));
    const x = randomFloats(3 * 7 * 16, 12, 1);
    const out = await session.run({ features: new ort.Tensor('float32', x, [3, 7, 16]) });
    const ref = referenceForward(stats, w, x, 3, 7);
    (out.logits!.data as Float32Array).forEach((v, i) => expect(Math.abs(v - ref.logits[i]!)).toBeLessThan(1e-4));
    expect(out.attention!.dims).toEqual([3, 7]);
    await session.release();
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8')).toMatch(
      /mean and standard deviation of the 16 features over the frames, one linear layer \(32→4 classes \+ \d+ subclasses\)/,
    );
  });

  it('--base starts a new models folder: the base taxonomy and the backbone the heads need, none of its heads; nothing else is touched', async () => {
    const root = tmp();
    const base = join(root, 'site-models');
    makeModelsDir(base);
    makeModelsDir(base, 'other-backbone', 8);
    const siteRun = join(root, 'site-run');
    writeMember(siteRun, 1);
    await exportRun({ run: siteRun, to: base, id: 'site', testModel: true, tfjsParity: false });
    const baseBefore = readFileSync(join(base, 'manifest.json'), 'utf8');

    const run = join(root, 'my-run');
    writeMember(run, 2);
    const mine = join(root, 'my-models');
    await exportRun({ run, to: mine, base, id: 'mine', testModel: true, tfjsParity: false });
    const m = readManifestFile(mine);
    expect(m.backbones.map((b) => b.id)).toEqual(['tiny-test']);
    expect(m.heads.map((h) => h.id)).toEqual(['mine']);
    expect(m.ensembles.map((e) => e.id)).toEqual(['mine']);
    expect(m.defaultEnsemble).toBe('mine');
    expect(m.taxonomy).toEqual(readManifestFile(base).taxonomy);
    expect(readFileSync(join(mine, 'backbones/tiny-test.onnx'))).toEqual(readFileSync(join(base, 'backbones/tiny-test.onnx')));
    expect(existsSync(join(mine, 'backbones/other-backbone.onnx'))).toBe(false);
    expect(existsSync(join(mine, 'heads/site.onnx'))).toBe(false);
    expect(readFileSync(join(base, 'manifest.json'), 'utf8')).toBe(baseBefore);

    // Only a new folder: an existing one is added to without --base.
    await expect(exportRun({ run, to: mine, base, id: 'again', testModel: true, tfjsParity: false })).rejects.toThrow(
      /already holds a manifest\.json/,
    );
    // A base whose backbone file was changed: refused, and the new folder is not created.
    const broken = join(root, 'broken-base');
    makeModelsDir(broken);
    writeFileSync(join(broken, 'backbones/tiny-test.onnx'), 'not the model');
    const nowhere = join(root, 'nowhere');
    await expect(exportRun({ run, to: nowhere, base: broken, testModel: true, tfjsParity: false })).rejects.toThrow(/sha256/);
    expect(existsSync(join(nowhere, 'manifest.json'))).toBe(false);
  });

  it('refuses a head whose parity check fails, writing nothing', async () => {
    const root = tmp();
    const models = join(root, 'models');
    makeModelsDir(models);
    const run = join(root, 'bad');
    writeMember(run, 3, true);
    const before = readFileSync(join(models, 'manifest.json'), 'utf8');
    await expect(exportRun({ run, to: models, tfjsParity: false })).rejects.toThrow(/parity check failed/);
    expect(readFileSync(join(models, 'manifest.json'), 'utf8')).toBe(before);
    expect(existsSync(join(models, 'heads'))).toBe(false);
  });

  it('CLI: exports a single head with --id, defaults calibration to 1 / 0.8, and fails clearly on an unknown backbone', () => {
    const root = tmp();
    const models = join(root, 'models');
    makeModelsDir(models);
    const run = join(root, 'single');
    writeMember(run, 4);
    const r = spawnSync(process.execPath, [CLI, 'export', '--run', run, '--to', models, '--id', 'My Head', '--no-tfjs-parity'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ command: 'export', ensemble: 'my-head', heads: [{ id: 'my-head', file: 'heads/my-head.onnx' }] });
    const m = readManifestFile(models);
    expect(m.ensembles[0]).toMatchObject({ id: 'my-head', members: ['my-head'], temperature: 1, oodThreshold: 0.8 });

    const other = join(root, 'other-models');
    makeModelsDir(other, 'another-backbone');
    const bad = spawnSync(process.execPath, [CLI, 'export', '--run', run, '--to', other, '--no-tfjs-parity'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/backbone "tiny-test", which the manifest does not list/);
  });
});
