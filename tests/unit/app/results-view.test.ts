import { describe, expect, it } from 'vitest';
import { parseResult, type Result } from '../../../src/core/result';
import { CLASS_IDS, DEFAULT_TAXONOMY, type ClassId, type Taxonomy } from '../../../src/core/taxonomy';
import { summarize, summaryText } from '../../../src/core/result-summary';
import { arrange, countFor, filterLabel, matchesFilter, type ResultFilter } from '../../../src/app/results-view';

function verdict(file: string, label: ClassId, confidence: number, inDistribution = true): Result {
  const rest = (1 - confidence) / 3;
  const probs = Object.fromEntries(CLASS_IDS.map((c) => [c, c === label ? confidence : rest])) as Record<ClassId, number>;
  return parseResult({
    file,
    label,
    confidence,
    probs,
    ood: { score: inDistribution ? 0.2 : 0.9, inDistribution },
    segments: [{ t0: 0, t1: 4, probs }],
    attention: [1],
    models: { backbones: ['b'], ensemble: 'default', tta: false },
    timingsMs: { decode: 1, backbone: 1, head: 1, total: 3 },
  });
}
const failure = (file: string): Result => parseResult({ file, error: { code: 'corrupt-file', message: 'Damaged.' } });

const items = [
  { name: 'clip10.mp4', result: verdict('clip10.mp4', 'gaming', 0.9) },
  { name: 'broken.mp4', result: failure('broken.mp4') },
  { name: 'Clip2.webm', result: verdict('Clip2.webm', 'animation', 0.45, false) },
  { name: 'clip1.mp4', result: verdict('clip1.mp4', 'gaming', 0.6) },
  { name: 'slides.mkv', result: verdict('slides.mkv', 'flat', 0.6) },
];
const names = (list: { name: string }[]) => list.map((i) => i.name);

describe('summarize', () => {
  it('counts each verdict, the uncertain ones among them, and the failures', () => {
    const s = summarize(items.map((i) => i.result));
    expect(s).toEqual({ total: 5, byClass: { animation: 1, gaming: 2, natural: 0, flat: 1 }, uncertain: 1, failed: 1 });
    const filters: ResultFilter[] = ['all', ...CLASS_IDS, 'uncertain', 'failed'];
    // Every filter's count is the number of results it shows.
    for (const f of filters) expect(countFor(s, f), f).toBe(items.filter((i) => matchesFilter(i.result, f)).length);
  });

  it('of nothing is all zeros', () => {
    expect(summarize([])).toEqual({ total: 0, byClass: { animation: 0, gaming: 0, natural: 0, flat: 0 }, uncertain: 0, failed: 0 });
  });

  it('reads as one line: the verdicts given, the uncertain among them, the failures', () => {
    expect(summaryText(summarize(items.map((i) => i.result)))).toBe(
      '5 files: 1 Animation, 2 Gaming, 1 Flat content (1 uncertain); 1 failed',
    );
    expect(summaryText(summarize([items[0]!.result]))).toBe('1 file: 1 Gaming');
    expect(summaryText(summarize([failure('x.mp4')]))).toBe('1 file: none classified; 1 failed');
  });
});

describe('arrange', () => {
  it('filters by verdict, by "uncertain" and by failure, keeping the order the files were added in', () => {
    expect(names(arrange(items, 'all', 'added'))).toEqual(names(items));
    expect(names(arrange(items, 'gaming', 'added'))).toEqual(['clip10.mp4', 'clip1.mp4']);
    expect(names(arrange(items, 'natural', 'added'))).toEqual([]);
    expect(names(arrange(items, 'uncertain', 'added'))).toEqual(['Clip2.webm']);
    expect(names(arrange(items, 'failed', 'added'))).toEqual(['broken.mp4']);
  });

  it('sorts names as people read them: numbers by value, case ignored', () => {
    expect(names(arrange(items, 'all', 'name'))).toEqual(['broken.mp4', 'clip1.mp4', 'Clip2.webm', 'clip10.mp4', 'slides.mkv']);
  });

  it('puts the least confident verdicts first, ties in the order added, and failures last', () => {
    expect(names(arrange(items, 'all', 'least-confident'))).toEqual(['Clip2.webm', 'clip1.mp4', 'slides.mkv', 'clip10.mp4', 'broken.mp4']);
    expect(names(arrange(items, 'gaming', 'least-confident'))).toEqual(['clip1.mp4', 'clip10.mp4']);
  });

  it('leaves its input alone', () => {
    const copy = [...items];
    arrange(items, 'all', 'name');
    expect(items).toEqual(copy);
  });
});

describe('filterLabel', () => {
  it("names a verdict filter by the taxonomy's class name, and the others in words", () => {
    expect(filterLabel('all', DEFAULT_TAXONOMY)).toBe('All');
    expect(filterLabel('uncertain', DEFAULT_TAXONOMY)).toBe('Uncertain');
    expect(filterLabel('failed', DEFAULT_TAXONOMY)).toBe("Couldn't read");
    expect(filterLabel('flat', DEFAULT_TAXONOMY)).toBe('Flat content');
    const renamed: Taxonomy = {
      ...DEFAULT_TAXONOMY,
      classes: DEFAULT_TAXONOMY.classes.map((c) => (c.id === 'gaming' ? { ...c, name: 'Video games' } : c)),
    };
    expect(filterLabel('gaming', renamed)).toBe('Video games');
  });
});
