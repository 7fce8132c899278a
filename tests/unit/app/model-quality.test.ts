import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest';
import { modelQuality } from '../../../src/app/model-quality';
import { sampleManifest } from '../core/fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate untyped JSON on purpose
type M = any;

/** An ensemble's recorded test metrics, as `vidkind export` writes them. */
const testMetrics = (clips: number, accuracy: number, macroF1: number, perClassF1?: Record<string, number>) => ({
  split: 'test',
  clips,
  accuracy,
  macroF1,
  ...(perClassF1 ? { perClassF1 } : {}),
});

describe('modelQuality', () => {
  it('reads the shipped default ensemble: its cross-validation, its test clips, and its weakest class', () => {
    const raw = JSON.parse(readFileSync('public/models/manifest.json', 'utf8')) as M;
    const m = parseManifest(raw);
    const q = modelQuality(m)!;
    const entry = raw.ensembles.find((e: M) => e.id === (raw.defaultEnsemble ?? raw.ensembles[0].id));
    const { metrics, crossValidation: cv } = entry;
    // Trained on every source, the shipped run records validation scores, which are not shown as a test.
    expect(q.test).toEqual(
      metrics.split === 'test' ? { clips: metrics.clips, accuracy: metrics.accuracy, macroF1: metrics.macroF1 } : null,
    );
    // The shipped ensemble is exported with its cross-validation (train-defaults.sh), and its weakest
    // class is named from it: 1,955 clips, not a test split of a few sources per class.
    expect(q.crossValidation).toEqual({ folds: cv.folds, clips: cv.clips, accuracy: cv.accuracy, macroF1: cv.macroF1 });
    expect(cv.clips).toBeGreaterThan(metrics.clips);
    const [lowId, lowF1] = Object.entries(cv.perClassF1 as Record<string, number>).sort((a, b) => a[1] - b[1])[0]!;
    expect(q.weakest).toEqual({ name: m.taxonomy.classes.find((c) => c.id === lowId)!.name, f1: lowF1 });
  });

  it('picks the named ensemble (the default for one the manifest lacks, as the classifier does), and gives null without metrics', () => {
    const raw = sampleManifest() as M;
    expect(modelQuality(parseManifest(raw))).toBeNull();
    raw.ensembles[0].metrics = testMetrics(50, 0.8, 0.75, { animation: 0.9, gaming: 0.6, natural: 0.8, flat: 0.7 });
    raw.ensembles.push({ id: 'solo', name: 'Solo', members: ['head-a'], metrics: testMetrics(10, 0.5, 0.4) });
    const m = parseManifest(raw);
    expect(modelQuality(m)).toEqual({
      test: { clips: 50, accuracy: 0.8, macroF1: 0.75 },
      crossValidation: null,
      weakest: { name: 'Gaming', f1: 0.6 },
    });
    expect(modelQuality(m, 'solo')).toEqual({ test: { clips: 10, accuracy: 0.5, macroF1: 0.4 }, crossValidation: null, weakest: null });
    expect(modelQuality(m, 'nope')).toEqual(modelQuality(m));
  });

  it('names the weakest class from the cross-validation when there is one, and needs no test metrics beside it', () => {
    const raw = sampleManifest() as M;
    raw.ensembles[0].metrics = testMetrics(50, 0.8, 0.75, { animation: 0.9, gaming: 0.6, natural: 0.8, flat: 0.7 });
    raw.ensembles[0].crossValidation = {
      folds: 5,
      clips: 900,
      accuracy: 0.7,
      macroF1: 0.68,
      perClassF1: { animation: 0.5, gaming: 0.7, natural: 0.8, flat: 0.75 },
    };
    const q = modelQuality(parseManifest(raw))!;
    expect(q.crossValidation).toEqual({ folds: 5, clips: 900, accuracy: 0.7, macroF1: 0.68 });
    expect(q.weakest).toEqual({ name: 'Animation', f1: 0.5 });
    // Models trained on every source record validation scores, not test scores: the panel leaves them out.
    raw.ensembles[0].metrics = { ...testMetrics(40, 0.9, 0.9), split: 'val' };
    expect(modelQuality(parseManifest(raw))).toMatchObject({ test: null, crossValidation: { clips: 900 } });
    delete raw.ensembles[0].metrics;
    expect(modelQuality(parseManifest(raw))).toMatchObject({ test: null, crossValidation: { clips: 900 } });
    raw.ensembles[0].crossValidation.folds = 1;
    expect(() => parseManifest(raw)).toThrow(/invalid/i);
  });

  it('names no weakest class when all classes score the same', () => {
    const raw = sampleManifest() as M;
    raw.ensembles[0].metrics = testMetrics(8, 1, 1, { animation: 1, gaming: 1, natural: 1, flat: 1 });
    expect(modelQuality(parseManifest(raw))!.weakest).toBeNull();
  });

  it('refuses a per-class F1 outside [0, 1] at the manifest boundary', () => {
    const raw = sampleManifest() as M;
    raw.ensembles[0].metrics = testMetrics(8, 1, 1, { animation: 3 });
    expect(() => parseManifest(raw)).toThrow(/invalid/);
  });
});
