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
  it('reads the shipped default ensemble: test clips, accuracy, macro-F1 and its weakest class', () => {
    const raw = JSON.parse(readFileSync('public/models/manifest.json', 'utf8')) as M;
    const m = parseManifest(raw);
    const q = modelQuality(m)!;
    const metrics = raw.ensembles.find((e: M) => e.id === (raw.defaultEnsemble ?? raw.ensembles[0].id)).metrics;
    expect(q.clips).toBe(metrics.clips);
    expect(q.accuracy).toBe(metrics.accuracy);
    expect(q.macroF1).toBe(metrics.macroF1);
    const [lowId, lowF1] = Object.entries(metrics.perClassF1 as Record<string, number>).sort((a, b) => a[1] - b[1])[0]!;
    expect(q.weakest).toEqual({ name: m.taxonomy.classes.find((c) => c.id === lowId)!.name, f1: lowF1 });
  });

  it('picks the named ensemble, and gives null without metrics or for an unknown ensemble', () => {
    const raw = sampleManifest() as M;
    expect(modelQuality(parseManifest(raw))).toBeNull();
    raw.ensembles[0].metrics = testMetrics(50, 0.8, 0.75, { animation: 0.9, gaming: 0.6, natural: 0.8, flat: 0.7 });
    raw.ensembles.push({ id: 'solo', name: 'Solo', members: ['head-a'], metrics: testMetrics(10, 0.5, 0.4) });
    const m = parseManifest(raw);
    expect(modelQuality(m)).toEqual({ clips: 50, accuracy: 0.8, macroF1: 0.75, weakest: { name: 'Gaming', f1: 0.6 } });
    expect(modelQuality(m, 'solo')).toEqual({ clips: 10, accuracy: 0.5, macroF1: 0.4, weakest: null });
    expect(modelQuality(m, 'nope')).toBeNull();
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
