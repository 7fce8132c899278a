import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldPredictions, readCvCalibration, type CrossValidationReport } from '../../src/eval/cross-validate.ts';
import type { SeedsReport } from '../../src/eval/cv-seeds.ts';
import { pooledSubclassCalibration } from '../../src/eval/calibration.ts';
import { evaluateRun, scoreRun } from '../../src/eval/evaluate.ts';
import { classificationMetrics } from '../../src/eval/metrics.ts';
import { argmax, meanProbs, softmax } from '../../../src/core/postprocess.ts';
import { exportRun } from '../../src/export/export-run.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
import { itemKey, readIndex, readItemFeatures, writeItem } from '../../src/features/store.ts';
import { readRunConfig } from '../../src/train/run-dir.ts';
import { makeModelsDir } from '../extract/test-models.ts';
import { TINY_HEAD, waitFor, writeSyntheticStore } from '../train/synthetic-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vidkind-cv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bin = join(import.meta.dirname, '../../bin/vidkind.mjs');
const features = join(root, 'features');
writeSyntheticStore(features, { clipsPerSource: 3, sourcesPerClass: 6, frames: 6, dim: 12, seed: 2, separation: 2 });
// One source with clips of two classes (as scratch holds drawings and photos): a natural clip in an animation source.
const odd = readIndex(features).find((i) => i.class === 'natural')!;
const oddPath = '/clips/mixed/natural-in-animation-source0.mp4';
writeItem(features, { ...odd, key: itemKey(oddPath), path: oddPath, source: 'animation-source0' }, readItemFeatures(features, odd.key));
const items = readIndex(features);
// memberConfigs comes after folds/fold in the schema: --resume must not take the reordered keys for another config.
const config = JSON.stringify({ ...TINY_HEAD, epochs: 4, batch: 8, seed: 5, lr: 3e-3, patience: 100, memberConfigs: [{ lr: 3e-3 }] });

function cv(
  args: string[],
  onStart?: (kill: (sig: NodeJS.Signals) => void) => void,
  store = features,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, 'cv', '--features', store, '--no-progress', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  onStart?.((sig) => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code: signal ? null : code, out })));
}

describe('foldPredictions', () => {
  it("answers at each fold's validation temperature, or at the one fitted on the other folds", () => {
    // Member A is sure of class 0 (margin 2); member B leans to class 1 by 0.3 over classes 2 and 3.
    // Sharp (T 0.05) the larger margin wins: class 0. Soft (T 20) the mean of the logits does: class 1.
    const clip = [Float32Array.of(2, 0, 0, 0), Float32Array.of(0, 2.2, 1.9, 1.9)];
    const fold = (t: number) => ({
      memberLogits: clip.map((l) => [l]),
      labels: Int32Array.of(1),
      probs: [meanProbs(clip.map((l) => softmax(l, t)))],
    });
    const folds = [fold(0.05), fold(20)];
    expect(foldPredictions(folds, 'validation', [20, 0.05])).toEqual([[0], [1]]);
    expect(foldPredictions(folds, 'other-folds', [20, 0.05])).toEqual([[1], [0]]);
  });
});

describe('vidkind cv', () => {
  const out = join(root, 'cv');

  it('stops on Ctrl-C with checkpoints, and --resume finishes it: every clip held out once, pooled and per source', async () => {
    const first = await cv(
      ['--out', out, '--folds', '3', '--jobs', '2', '--config', config],
      (kill) => void waitFor(join(out, 'fold-0', 'members', '0', 'state', 'state.json')).then(() => kill('SIGINT')),
    );
    expect(first.code, first.out).toBe(130);
    expect(first.out).toContain('--resume');
    expect(existsSync(join(out, 'cv.json'))).toBe(false);

    const second = await cv(['--out', out, '--folds', '3', '--jobs', '2', '--config', config, '--resume']);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain(`3-fold cross-validation by source: ${items.length} clips`);
    const r = JSON.parse(readFileSync(join(out, 'cv.json'), 'utf8')) as CrossValidationReport;
    expect(r.predictedAt).toBe('validation'); // each fold at its own validation temperature (no trainOnVal)

    // Every clip is held out by exactly one fold; the folds partition the 24 sources, each class's 6
    // sources two to a fold.
    expect(r.clips).toBe(items.length);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(items.length);
    const heldOut = r.perFold.flatMap((f) => f.sources);
    expect(new Set(heldOut).size).toBe(heldOut.length);
    expect(new Set(heldOut)).toEqual(new Set(items.map((i) => i.source)));
    for (const f of r.perFold)
      for (const cls of r.classes)
        expect(
          f.sources.filter((s) => s.startsWith(`${cls}-`)),
          `fold ${f.fold}`,
        ).toHaveLength(2);

    for (const f of r.perFold) {
      // A fold's run is an ordinary run: its test part is exactly its held-out sources, and eval agrees.
      const rc = readRunConfig(join(out, `fold-${f.fold}`));
      expect(rc.train).toMatchObject({ folds: 3, fold: f.fold, seed: 5 });
      const test = items.filter((i) => rc.split[i.key] === 'test');
      expect(new Set(test.map((i) => i.source))).toEqual(new Set(f.sources));
      expect(test).toHaveLength(f.clips);
      expect(rc.data.clips.val).toBeGreaterThan(0);
      const m = await evaluateRun(join(out, `fold-${f.fold}`), 'test');
      expect(m.macroF1).toBeCloseTo(f.macroF1, 12);
      expect(m.accuracy).toBeCloseTo(f.accuracy, 12);
    }
    // Pooled accuracy is the clip-weighted mean of the folds'; per-source counts add up to it.
    const weighted = r.perFold.reduce((a, f) => a + f.accuracy * f.clips, 0) / r.clips;
    expect(r.accuracy).toBeCloseTo(weighted, 12);
    // One entry per source and class: 24 sources, one of them with clips of two classes.
    expect(r.perSource).toHaveLength(25);
    expect(r.perSource.filter((s) => s.source === 'animation-source0').map((s) => [s.class, s.clips])).toEqual(
      expect.arrayContaining([
        ['animation', 3],
        ['natural', 1],
      ]),
    );
    expect(r.perSource.reduce((a, s) => a + s.correct, 0)).toBe(Math.round(r.accuracy * r.clips));
    for (const s of r.perSource) expect(Object.values(s.predicted).reduce((a, b) => a + b, 0)).toBe(s.clips);
    const shares = r.perSource.map((s) => s.correct / s.clips);
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    // Separable synthetic classes: clearly above chance (0.25).
    expect(r.accuracy).toBeGreaterThan(0.5);
    expect(r.foldMacroF1.min).toBeLessThanOrEqual(r.foldMacroF1.max);

    // Calibration fitted on every held-out clip: one leave-one-fold-out temperature per fold, and the
    // folds' own validation temperatures for comparison.
    const k = r.calibration;
    expect(k.clips).toBe(items.length);
    expect(k.leaveOneOutTemperatures).toHaveLength(3);
    expect(k.temperature).toBeGreaterThan(0);
    expect(k.oodThreshold).toBeGreaterThan(0);
    expect(k.oodThreshold).toBeLessThanOrEqual(1);
    expect(k.validationFitted.temperature.min).toBeLessThanOrEqual(k.validationFitted.temperature.max);
    for (const v of [k.eceBefore, k.eceAfter, k.nllBefore, k.nllAfter, k.oodFlaggedRate]) expect(Number.isFinite(v)).toBe(true);
    // The subcategory's temperature, fitted apart on the held-out clips with a known subclass (every
    // third synthetic clip has none), from the folds' own subclass outputs.
    const folds = await Promise.all(r.perFold.map((f) => scoreRun(join(out, `fold-${f.fold}`), 'test')));
    expect(k.subclass).toEqual(
      pooledSubclassCalibration(
        folds.map((f) => f.subclassClips),
        folds[0]!.subclassKeys,
        k.temperature,
      ),
    );
    expect(k.subclass!.clips).toBe(items.filter((i) => i.subclass).length);
    expect(k.subclass!.leaveOneOutTemperatures).toHaveLength(3);
  });

  it('eval --calibration takes the temperature and threshold from the cv, and refuses one fitted for other models', async () => {
    const r = JSON.parse(readFileSync(join(out, 'cv.json'), 'utf8')) as CrossValidationReport;
    const fold = join(out, 'fold-1');
    const own = await evaluateRun(fold, 'test');
    expect(own.calibratedOn).toBe('validation');
    const given = await evaluateRun(fold, 'test', undefined, undefined, readCvCalibration(out));
    expect(given).toMatchObject({
      calibratedOn: 'cross-validation',
      calibrationClips: items.length,
      calibrationFile: join(out, 'cv.json'),
      temperature: r.calibration.temperature,
      oodThreshold: r.calibration.oodThreshold,
      subclassTemperature: r.calibration.subclass!.temperature,
    });
    expect(given.temperature).not.toBe(own.temperature);
    expect(own.subclassTemperature).not.toBe(given.subclassTemperature);
    // The CLI writes it into metrics.json, and the report says where it came from.
    const cli = spawnSync(process.execPath, [bin, 'eval', '--run', fold, '--calibration', join(out, 'cv.json'), '--no-progress'], {
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(
      `(from ${items.length} cross-validation clips; subclasses ${r.calibration.subclass!.temperature.toFixed(3)})`,
    );
    expect(JSON.parse(readFileSync(join(fold, 'metrics.json'), 'utf8'))).toMatchObject({
      temperature: r.calibration.temperature,
      subclassTemperature: r.calibration.subclass!.temperature,
    });
    expect(readFileSync(join(fold, 'report.html'), 'utf8')).toContain(`fitted on ${items.length} held-out clips of a cross-validation`);

    // Fitted at other frames, or for other backbones: refused. A cv.json from before calibration was recorded: told to rescore.
    await expect(evaluateRun(fold, 'test', undefined, 3, readCvCalibration(out))).rejects.toThrow(
      /at 6 frames, not this run's synthetic at 3/,
    );
    const other = join(root, 'calib-cv.json');
    writeFileSync(other, JSON.stringify({ ...r, backbones: ['mobilenet'] }));
    await expect(evaluateRun(fold, 'test', undefined, undefined, readCvCalibration(other))).rejects.toThrow(/calibrates mobilenet/);
    const { calibration: _, ...old } = r;
    writeFileSync(other, JSON.stringify(old));
    expect(() => readCvCalibration(other)).toThrow(/rerun that `vidkind cv` with --resume/);
  });

  it('goes into the model card with export --cv, and only for the configuration it validated', async () => {
    const r = JSON.parse(readFileSync(join(out, 'cv.json'), 'utf8')) as CrossValidationReport;
    expect(r.backbones).toEqual(['synthetic']);
    const models = join(root, 'models');
    makeModelsDir(models, 'synthetic', 12);
    const fold = join(out, 'fold-0');
    await exportRun({ run: fold, to: models, id: 'cv-fold', testModel: true, tfjsParity: false, cv: out });
    const card = readFileSync(join(models, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('### Cross-validation by source');
    expect(card).toContain('3 folds of the sources');
    expect(card).toContain(`each of the ${items.length} clips is predicted once`);
    expect(card).toContain(`- Pooled: accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${r.macroF1.toFixed(3)}.`);
    expect(card).toContain(`| animation | ${r.confusion[0]!.join(' | ')} |`);
    expect(card).toContain(`- Calibration on the pooled held-out clips: temperature ${r.calibration.temperature.toFixed(3)}`);
    expect(card).toContain(
      `Subcategory within its class, on the ${r.calibration.subclass!.clips} clips with a known one: temperature ${r.calibration.subclass!.temperature.toFixed(3)}`,
    );
    // fold-0 was never evaluated by the CLI, so nothing was fitted: the card says so.
    expect(card).toContain('not fitted: the run was not evaluated');
    // The manifest carries the pooled figures for the app's models panel.
    expect(readManifestFile(models).ensembles.find((e) => e.id === 'cv-fold')!.crossValidation).toEqual({
      folds: 3,
      clips: items.length,
      accuracy: r.accuracy,
      macroF1: r.macroF1,
      perClassF1: Object.fromEntries(r.classes.map((c) => [c, r.perClass[c]!.f1])),
    });

    // A cross-validation of other settings, or scored at other frames, is refused before anything is written.
    const other = join(root, 'other-cv.json');
    writeFileSync(other, JSON.stringify({ ...r, config: { ...r.config, lr: 0.01 } }));
    await expect(exportRun({ run: fold, to: models, id: 'x', tfjsParity: false, cv: other })).rejects.toThrow(/differs in lr/);
    writeFileSync(other, JSON.stringify({ ...r, frames: 3 }));
    await expect(exportRun({ run: fold, to: models, id: 'x', tfjsParity: false, cv: other })).rejects.toThrow(/--frames 6/);
    // The split's test part is what folds replace: only the train/val shares must match.
    writeFileSync(other, JSON.stringify({ ...r, config: { ...r.config, split: [0.6, 0.3, 0.1] } }));
    await expect(exportRun({ run: fold, to: models, id: 'x', tfjsParity: false, cv: other })).rejects.toThrow(/differs in split/);
    expect(readManifestFile(models).ensembles.map((e) => e.id)).toEqual(['cv-fold']);
    const trainShare = (r.config.split as number[])[0]! / ((r.config.split as number[])[0]! + (r.config.split as number[])[1]!);
    writeFileSync(other, JSON.stringify({ ...r, config: { ...r.config, split: [trainShare, 1 - trainShare, 0] } }));
    await exportRun({ run: fold, to: models, id: 'cv-split', testModel: true, tfjsParity: false, cv: other });

    // fold-1 was evaluated with --calibration (the test before): its entry carries the cv's temperature, and its card says where from.
    const e = (await exportRun({ run: join(out, 'fold-1'), to: models, id: 'cv-fold-1', testModel: true, tfjsParity: false, cv: out }))
      .ensemble;
    expect(e).toMatchObject({
      temperature: r.calibration.temperature,
      oodThreshold: r.calibration.oodThreshold,
      subclassTemperature: r.calibration.subclass!.temperature,
    });
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8')).toContain(`Subcategory temperature ${r.calibration.subclass!.temperature}`);
    expect(readFileSync(join(models, 'MODEL_CARD.md'), 'utf8')).toContain(
      `both fitted on the ${items.length} held-out clips of the cross-validation below`,
    );
  });

  it('with trainOnVal predicts each fold at the temperature fitted on the other folds, not at its in-sample validation one', async () => {
    const tov = join(root, 'cv-tov');
    // Hard clips, two members on other features of the same clips (foldPredictions's test below has
    // clips whose answer the temperature decides).
    const hard = [4, 8].map((seed) => {
      const dir = join(root, `features-hard-${seed}`);
      writeSyntheticStore(dir, { clipsPerSource: 3, sourcesPerClass: 6, frames: 6, dim: 12, seed, separation: 0.3 });
      return dir;
    });
    const tovConfig = {
      head: 'stats',
      solver: 'lbfgs',
      epochs: 40,
      keep: 'last',
      trainOnVal: true,
      focalGamma: 0,
      l2: 0.01,
      dropout: 0,
      seed: 5,
    };
    const run = await cv(
      ['--out', tov, '--folds', '3', '--members', '2', '--config', JSON.stringify(tovConfig)],
      undefined,
      hard.join(','),
    );
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("at its validation's temperature; the report predicts at the other folds'");
    const r = JSON.parse(readFileSync(join(tov, 'cv.json'), 'utf8')) as CrossValidationReport;
    expect(r.predictedAt).toBe('other-folds');
    // By hand: each fold's members' logits at that fold's leave-one-out temperature, averaged, argmax.
    const truth: number[] = [];
    const pred: number[] = [];
    const foldF1: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s = await scoreRun(join(tov, `fold-${k}`), 'test', undefined, r.frames);
      const t = r.calibration.leaveOneOutTemperatures[k]!;
      const p = Array.from(s.labels, (_, i) => argmax(meanProbs(s.memberLogits.map((m) => softmax(m[i]!, t)))));
      truth.push(...s.labels);
      pred.push(...p);
      foldF1.push(classificationMetrics(Array.from(s.labels), p, 4).macroF1);
    }
    const m = classificationMetrics(truth, pred, 4);
    expect(r.macroF1).toBeCloseTo(m.macroF1, 10);
    expect(r.confusion).toEqual(m.confusion);
    r.perFold.forEach((f, k) => expect(f.macroF1).toBeCloseTo(foldF1[k]!, 10));
  });

  it('--folds-from keeps every source in its earlier fold and deals added sources around them', async () => {
    const r = JSON.parse(readFileSync(join(out, 'cv.json'), 'utf8')) as CrossValidationReport;
    // The same clips plus a source the earlier cross-validation never saw (gaming clips moved to it).
    const grown = join(root, 'features-grown');
    writeSyntheticStore(grown, { clipsPerSource: 3, sourcesPerClass: 6, frames: 6, dim: 12, seed: 2, separation: 2 });
    writeItem(grown, { ...odd, key: itemKey(oddPath), path: oddPath, source: 'animation-source0' }, readItemFeatures(features, odd.key));
    for (const [i, g] of items
      .filter((it) => it.class === 'gaming')
      .slice(0, 3)
      .entries()) {
      const path = `/clips/added/gaming-${i}.mp4`;
      writeItem(grown, { ...g, key: itemKey(path), path, source: 'gaming-added' }, readItemFeatures(features, g.key));
    }
    const pinnedOut = join(root, 'cv-pinned');
    const run = spawn(
      process.execPath,
      [bin, 'cv', '--features', grown, '--no-progress', '--out', pinnedOut, '--folds', '3', '--config', config, '--folds-from', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    run.stdout.on('data', (d: Buffer) => (log += d.toString()));
    run.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const code = await new Promise((resolve) => run.on('exit', resolve));
    expect(code, log).toBe(0);
    expect(log).toContain('24 of 25 sources keep their folds');
    const p = JSON.parse(readFileSync(join(pinnedOut, 'cv.json'), 'utf8')) as CrossValidationReport;
    expect(p.foldsFrom).toBe(out);
    const before = new Map(r.perSource.map((s) => [s.source, s.fold]));
    for (const s of p.perSource) if (s.source !== 'gaming-added') expect(s.fold, s.source).toBe(before.get(s.source));
    expect(p.perSource.find((s) => s.source === 'gaming-added')!.clips).toBe(3);
    // An earlier cross-validation with another number of folds cannot be pinned to.
    const wrong = await cv(['--out', join(root, 'cv-wrong'), '--folds', '4', '--config', config, '--folds-from', out]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain('pass --folds 3');
  });

  it("--seeds repeats it per seed on the first seed's folds, reports the mean and spread, and --resume keeps finished seeds", async () => {
    const seedsOut = join(root, 'cv-seeds');
    const args = ['--out', seedsOut, '--folds', '3', '--config', config, '--seeds', '7,8'];
    const first = await cv(args);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('seed 8 fold 2 held out');
    const s = JSON.parse(readFileSync(join(seedsOut, 'seeds.json'), 'utf8')) as SeedsReport;
    expect(s.seeds).toEqual([7, 8]);
    const [a, b] = [7, 8].map(
      (seed) => JSON.parse(readFileSync(join(seedsOut, `seed-${seed}`, 'cv.json'), 'utf8')) as CrossValidationReport,
    );
    // Each seed trained with its own seed (--seeds replaces the config's 5) and is reported as it scored.
    expect([a!.config.seed, b!.config.seed]).toEqual([7, 8]);
    expect(s.runs.map((r) => [r.seed, r.macroF1])).toEqual([
      [7, a!.macroF1],
      [8, b!.macroF1],
    ]);
    expect(s.macroF1.mean).toBeCloseTo((a!.macroF1 + b!.macroF1) / 2, 12);
    expect(s.macroF1.min).toBe(Math.min(a!.macroF1, b!.macroF1));
    expect(s.perClassF1['flat']!.max).toBe(Math.max(a!.perClass['flat']!.f1, b!.perClass['flat']!.f1));
    expect(first.out).toContain(`macro-F1 over seeds: ${s.macroF1.mean.toFixed(4)} ± ${s.macroF1.sd.toFixed(4)}`);
    expect(s.calibration!.temperature.mean).toBeCloseTo((a!.calibration.temperature + b!.calibration.temperature) / 2, 12);
    expect(s.calibration!.eceAfter.max).toBe(Math.max(a!.calibration.eceAfter, b!.calibration.eceAfter));
    expect(first.out).toContain(`pooled calibration: temperature ${s.calibration!.temperature.mean.toFixed(3)}`);
    // Seed 8 is held to seed 7's folds: the same sources are held out, and only the rest of the
    // seed's draws (validation sources, starting weights) differ.
    expect(b!.foldsFrom).toBe(join(seedsOut, 'seed-7', 'cv.json'));
    expect(s.foldsFrom).toBe(b!.foldsFrom);
    expect(b!.perFold.map((f) => f.sources)).toEqual(a!.perFold.map((f) => f.sources));
    const val = (seed: number, f: number) => {
      const split = readRunConfig(join(seedsOut, `seed-${seed}`, `fold-${f}`)).split;
      return new Set(items.filter((i) => split[i.key] === 'val').map((i) => i.source));
    };
    expect([0, 1, 2].some((f) => [...val(7, f)].sort().join() !== [...val(8, f)].sort().join())).toBe(true);

    // --resume over finished seeds retrains nothing and writes the same summary.
    const again = await cv([...args, '--resume']);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('epoch');
    expect(JSON.parse(readFileSync(join(seedsOut, 'seeds.json'), 'utf8'))).toEqual(s);
    const twice = await cv(['--out', join(root, 'cv-seeds-bad'), '--seeds', '7,7']);
    expect(twice.code).toBe(2);
    expect(twice.out).toContain('a seed is listed twice');
  });

  it('refuses folds set in --config (they are --folds)', async () => {
    const bad = await cv(['--out', join(root, 'bad'), '--config', JSON.stringify({ folds: 3, fold: 0 })]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('--folds');
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });

  it('refuses --folds below 2 and a non-integer --jobs as usage errors (exit 2), before anything is written', async () => {
    const one = await cv(['--out', join(root, 'one-fold'), '--folds', '1']);
    expect(one.code).toBe(2);
    expect(one.out).toMatch(/--folds <k>.*expected an integer >= 2/);
    const jobs = await cv(['--out', join(root, 'one-fold'), '--jobs', '1.5']);
    expect(jobs.code).toBe(2);
    expect(jobs.out).toMatch(/--jobs <n>.*expected a positive integer/);
    expect(existsSync(join(root, 'one-fold'))).toBe(false);
  });
});
