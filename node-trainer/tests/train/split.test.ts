import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/train/rng.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { crossValidationSplit, foldsBySource, splitBySource, type SplitItem } from '../../src/train/split.ts';

function corpus(seed: number): SplitItem[] {
  const rng = new Rng(seed);
  const items: SplitItem[] = [];
  for (const cls of ['animation', 'gaming', 'natural', 'flat'])
    for (let s = 0; s < 30; s++) {
      const n = 1 + Math.floor(rng.next() * 12);
      for (let k = 0; k < n; k++) items.push({ key: `${cls}-${s}-${k}`, class: cls, source: `${cls}/src${s}` });
    }
  return items;
}

describe('source-grouped stratified split', () => {
  const items = corpus(5);
  const split = splitBySource(items, [0.7, 0.2, 0.1], new Rng(1));

  it('assigns every item, and keeps every source in one part', () => {
    expect(split.size).toBe(items.length);
    const partOf = new Map<string, Set<string>>();
    for (const it of items) {
      const s = partOf.get(it.source) ?? new Set();
      s.add(split.get(it.key)!);
      partOf.set(it.source, s);
    }
    for (const [source, parts] of partOf) expect(parts.size, source).toBe(1);
  });

  it('keeps each class close to 70/20/10', () => {
    for (const cls of ['animation', 'gaming', 'natural', 'flat']) {
      const mine = items.filter((i) => i.class === cls);
      const share = (p: string) => mine.filter((i) => split.get(i.key) === p).length / mine.length;
      expect(share('train')).toBeGreaterThan(0.6);
      expect(share('train')).toBeLessThan(0.8);
      expect(share('val')).toBeGreaterThan(0.12);
      expect(share('val')).toBeLessThan(0.28);
      expect(share('test')).toBeGreaterThan(0.04);
      expect(share('test')).toBeLessThan(0.16);
    }
  });

  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const again = splitBySource([...items].reverse(), [0.7, 0.2, 0.1], new Rng(1));
    expect([...again.entries()].sort()).toEqual([...split.entries()].sort());
    const other = splitBySource(items, [0.7, 0.2, 0.1], new Rng(2));
    expect([...other.entries()].sort()).not.toEqual([...split.entries()].sort());
  });

  it('holds out other sources with other seeds, never one too big for the part', () => {
    // One big source and several that fit in the 10% test share of a class of 200 clips.
    const sizes = [100, 20, 20, 18, 16, 14, 12];
    const items = sizes.flatMap((n, s) =>
      Array.from({ length: n }, (_, k) => ({ key: `g-${s}-${k}`, class: 'gaming', source: `game${s}` })),
    );
    const testSources = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const split = splitBySource(items, [0.7, 0.2, 0.1], new Rng(seed));
      const test = new Set(items.filter((i) => split.get(i.key) === 'test').map((i) => i.source));
      expect(test.has('game0'), `seed ${seed}`).toBe(false);
      expect(split.get('g-0-0'), `seed ${seed}`).toBe('train');
      testSources.add([...test].sort().join('+'));
    }
    expect(testSources.size).toBeGreaterThan(3);
  });
});

describe('cross-validation folds by source', () => {
  const items = corpus(7);
  const sources = [...new Set(items.map((i) => i.source))];

  it('deals every source into one fold, each class spread evenly over the folds', () => {
    const folds = foldsBySource(items, 5, new Rng(3));
    expect(folds.size).toBe(items.length);
    const foldOf = new Map<string, Set<number>>();
    for (const it of items) foldOf.set(it.source, (foldOf.get(it.source) ?? new Set()).add(folds.get(it.key)!));
    for (const s of sources) expect(foldOf.get(s)!.size, s).toBe(1);
    for (const cls of ['animation', 'gaming', 'natural', 'flat']) {
      const mine = items.filter((i) => i.class === cls);
      const perFold = [0, 1, 2, 3, 4].map((f) => mine.filter((i) => folds.get(i.key) === f).length);
      // 30 sources of 1-12 clips each per class, placed largest first into the emptiest fold.
      expect(Math.max(...perFold) - Math.min(...perFold), `${cls}: ${perFold.join(' ')}`).toBeLessThanOrEqual(12);
      const sourcesPerFold = [0, 1, 2, 3, 4].map((f) => new Set(mine.filter((i) => folds.get(i.key) === f).map((i) => i.source)).size);
      expect(Math.min(...sourcesPerFold)).toBeGreaterThanOrEqual(3);
    }
    expect(() => foldsBySource(items, 1, new Rng(3))).toThrow(RangeError);
  });

  it('makes each fold the test part once: the folds partition the clips, train and val never share a source with it', () => {
    const tested = new Map<string, number>();
    for (let f = 0; f < 4; f++) {
      const split = crossValidationSplit(items, [0.7, 0.2, 0.1], 4, f, new Rng(9));
      expect(split.size).toBe(items.length);
      const partsOf = new Map<string, Set<string>>();
      for (const it of items) partsOf.set(it.source, (partsOf.get(it.source) ?? new Set()).add(split.get(it.key)!));
      for (const [s, parts] of partsOf) expect(parts.size, s).toBe(1);
      for (const it of items)
        if (split.get(it.key) === 'test') {
          expect(tested.has(it.key), it.key).toBe(false);
          tested.set(it.key, f);
        }
      // Of the rest, about 70/(70+20) train and 20/(70+20) val.
      const rest = items.filter((i) => split.get(i.key) !== 'test');
      const val = rest.filter((i) => split.get(i.key) === 'val').length / rest.length;
      expect(val).toBeGreaterThan(0.15);
      expect(val).toBeLessThan(0.3);
    }
    expect(tested.size).toBe(items.length);
    // The same seed gives the same folds; another seed other folds.
    expect([...crossValidationSplit(items, [0.7, 0.2, 0.1], 4, 2, new Rng(9)).entries()].sort()).toEqual(
      [...crossValidationSplit([...items].reverse(), [0.7, 0.2, 0.1], 4, 2, new Rng(9)).entries()].sort(),
    );
    expect([...crossValidationSplit(items, [0.7, 0.2, 0.1], 4, 2, new Rng(10)).entries()].sort()).not.toEqual(
      [...crossValidationSplit(items, [0.7, 0.2, 0.1], 4, 2, new Rng(9)).entries()].sort(),
    );
    expect(() => crossValidationSplit(items, [0.7, 0.2, 0.1], 4, 4, new Rng(9))).toThrow(RangeError);
  });

  it('keeps pinned sources in their folds and deals added sources around them', () => {
    const before = foldsBySource(items, 5, new Rng(3));
    const pins = new Map(items.map((it) => [it.source, before.get(it.key)!]));
    // Pinning every source to its own fold reproduces the deal, and the random stream after it:
    // the train/val split of every fold is the same too.
    expect([...foldsBySource(items, 5, new Rng(3), pins).entries()].sort()).toEqual([...before.entries()].sort());
    for (let f = 0; f < 5; f++)
      expect([...crossValidationSplit(items, [0.7, 0.2, 0.1], 5, f, new Rng(3), pins).entries()].sort()).toEqual(
        [...crossValidationSplit(items, [0.7, 0.2, 0.1], 5, f, new Rng(3)).entries()].sort(),
      );
    // Eight added sources of animation, 8 clips each: unpinned, the deal reshuffles the old sources;
    // pinned, they stay, and the added ones spread over the folds with the fewest animation clips.
    const added = Array.from({ length: 8 }, (_, s) =>
      Array.from({ length: 8 }, (_, k) => ({ key: `new-${s}-${k}`, class: 'animation', source: `new/src${s}` })),
    ).flat();
    const grown = [...items, ...added];
    const unpinned = foldsBySource(grown, 5, new Rng(3));
    expect(items.some((it) => unpinned.get(it.key) !== before.get(it.key))).toBe(true);
    const pinned = foldsBySource(grown, 5, new Rng(3), pins);
    for (const it of items) expect(pinned.get(it.key), it.key).toBe(before.get(it.key));
    const animation = (m: Map<string, number>, list: SplitItem[]) =>
      [0, 1, 2, 3, 4].map((f) => list.filter((i) => i.class === 'animation' && m.get(i.key) === f).length);
    const old = animation(before, items);
    const now = animation(pinned, grown);
    expect(now.reduce((a, b) => a + b)).toBe(old.reduce((a, b) => a + b) + 64);
    // The emptiest fold before gets added clips, and the folds end within one added source (8 clips)
    // of each other or as close as they were.
    expect(now[old.indexOf(Math.min(...old))]!).toBeGreaterThan(Math.min(...old));
    expect(Math.max(...now) - Math.min(...now), `${old.join(' ')} -> ${now.join(' ')}`).toBeLessThanOrEqual(
      Math.max(8, Math.max(...old) - Math.min(...old)),
    );
    expect(() => foldsBySource(items, 5, new Rng(3), new Map([['animation/src0', 5]]))).toThrow(/not one of the 5 folds/);
  });

  it('is asked for in a training config by "folds" and "fold", together', () => {
    expect(parseTrainConfig({ folds: 5, fold: 4 })).toMatchObject({ folds: 5, fold: 4 });
    expect(() => parseTrainConfig({ folds: 5 })).toThrow(/go together/);
    expect(() => parseTrainConfig({ fold: 1 })).toThrow(/go together/);
    expect(() => parseTrainConfig({ folds: 5, fold: 5 })).toThrow(/below/);
    expect(parseTrainConfig({})).not.toHaveProperty('folds');
  });
});
