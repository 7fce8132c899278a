import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/train/rng.ts';
import { splitBySource, type SplitItem } from '../../src/train/split.ts';

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
