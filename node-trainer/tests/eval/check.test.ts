import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src/core/result.ts';
import { DEFAULT_TAXONOMY, type ClassId } from '../../../src/core/taxonomy.ts';
import { checkMarkdown, checkReport } from '../../src/eval/check.ts';
import type { LabelRow } from '../../src/extract/labels.ts';

const row = (path: string, cls: ClassId, source: string): LabelRow => ({ path, file: `/v/${path}`, class: cls, subclass: '', source });
/** A verdict as `vidkind classify` gives it; only the fields the check reads matter here. */
const verdict = (file: string, label: ClassId, confidence: number, inDistribution = true) =>
  ({ file, label, confidence, ood: { score: 0.1, inDistribution } }) as unknown as Result;

describe('checkReport', () => {
  const rows = [
    row('a.mp4', 'natural', 'cam'),
    row('b.mp4', 'natural', 'cam'),
    row('c|d.mp4', 'animation', 'toon'),
    row('e.mp4', 'flat', 'deck'),
  ];
  const results: Result[] = [
    verdict('/v/a.mp4', 'natural', 0.9),
    verdict('/v/b.mp4', 'gaming', 0.6),
    verdict('/v/c|d.mp4', 'animation', 0.55, false),
    { file: '/v/e.mp4', error: { code: 'corrupt-file', message: 'damaged' } },
  ];
  const report = checkReport(rows, results, { models: { dir: '/m', ensemble: 'default', version: 'v1', tta: false }, labels: '/l.csv' });

  it('scores the classified files and lists the failed ones apart', () => {
    expect(report.metrics.clips).toBe(3);
    expect(report.metrics.accuracy).toBeCloseTo(2 / 3);
    // natural: 1 of 2 found, precision 1 -> F1 2/3; animation 1; gaming predicted once, never true -> 0; flat absent.
    expect(report.metrics.macroF1).toBeCloseTo((2 / 3 + 1 + 0) / 3);
    expect(report.files[3]).toMatchObject({ predicted: null, error: { code: 'corrupt-file' } });
    expect(report.sources).toEqual([
      { source: 'toon', class: 'animation', right: 1, of: 1 },
      { source: 'cam', class: 'natural', right: 1, of: 2 },
    ]);
  });

  it('writes Markdown people can read: the summary, the confusion matrix, each source and file, wrong verdicts in bold', () => {
    const md = checkMarkdown(report, DEFAULT_TAXONOMY);
    expect(md).toContain('3 of 4 labelled videos classified (1 could not be read): right on 67% of them, macro-F1 0.556');
    expect(md).toContain('| Natural content | 0 | 1 | 1 | 1/2 |');
    expect(md).toContain('| b.mp4 | cam | Natural content | **Gaming** | 60% |');
    expect(md).toContain('| c\\|d.mp4 | toon | Animation | Animation (maybe none of the four) | 55% |');
    expect(md).toContain('| e.mp4 | deck | Flat content | could not be read: corrupt-file | – |');
  });

  it('refuses results that do not pair with the labels', () => {
    expect(() =>
      checkReport(rows, results.slice(1), { models: { dir: '', ensemble: null, version: null, tta: false }, labels: '' }),
    ).toThrow(RangeError);
  });
});
