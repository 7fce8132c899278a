/** The corpus allocation (corpus/allocate.ts): quotas, balance, and extra sources on top. */
import { describe, expect, it } from 'vitest';
import { allocate, FULL_PER_CLASS, interleave, shouldCut, type Allocatable } from '../../corpus/allocate.ts';

interface Cand extends Allocatable {
  key: string;
}

/** n candidates of each source in each subclass of a class. */
function cands(classId: string, subs: Record<string, string[]>, n: number, extra = false): Cand[] {
  return Object.entries(subs).flatMap(([subclass, sources]) =>
    sources.flatMap((source) => Array.from({ length: n }, (_, i) => ({ key: `${source}#${i}`, classId, subclass, source, extra }))),
  );
}

const base = [
  ...cands('gaming', { strategy: ['freeciv-old', 'openttd'], shooter: ['kobo', 'chromium-bsu', 'xmoto'] }, 30),
  ...cands('flat', { slides: ['deck-a', 'deck-b'], documents: ['pdf-a'] }, 50),
];
const options = { classes: ['animation', 'gaming', 'natural', 'flat'], perClass: 60, seed: 'vidkind-corpus-1' };

describe('corpus allocation', () => {
  it('interleaves queues round-robin', () => {
    expect(interleave([[1, 2, 3], [4], [5, 6]])).toEqual([1, 4, 5, 2, 6, 3]);
  });

  it('fills each class to its quota, sharing it between subclasses and their sources', () => {
    const chosen = allocate(base, options);
    const of = (cls: string) => chosen.filter((c) => c.classId === cls);
    expect(of('gaming')).toHaveLength(60);
    expect(of('flat')).toHaveLength(60);
    const count = (list: Cand[], key: (c: Cand) => string) => {
      const m = new Map<string, number>();
      for (const c of list) m.set(key(c), (m.get(key(c)) ?? 0) + 1);
      return m;
    };
    expect(Object.fromEntries(count(of('gaming'), (c) => c.subclass))).toEqual({ strategy: 30, shooter: 30 });
    expect(Object.fromEntries(count(of('gaming'), (c) => c.source))).toEqual({
      'freeciv-old': 15,
      openttd: 15,
      kobo: 10,
      'chromium-bsu': 10,
      xmoto: 10,
    });
    // A source takes its clips in order: the first ones, so a rebuild with a bigger quota keeps them.
    for (const c of of('gaming')) expect(Number(c.key.split('#')[1])).toBeLessThan(15);
    // Deterministic for a seed.
    expect(allocate(base, options).map((c) => c.key)).toEqual(chosen.map((c) => c.key));
  });

  it('adds extra sources on top of the quota without changing any clip chosen before', () => {
    const before = allocate(base, options).map((c) => c.key);
    const extras = [
      ...cands('gaming', { strategy: ['wesnoth', 'ksquares'] }, 40, true),
      ...cands('flat', { slides: ['deck-c'] }, 10, true),
    ];
    const logs: string[] = [];
    const after = allocate([...extras, ...base], { ...options, log: (m) => logs.push(m) });
    const added = after.filter((c) => c.extra);
    expect(after.filter((c) => !c.extra).map((c) => c.key)).toEqual(before);
    // Each extra source: its first round(n x perClass / FULL_PER_CLASS) clips, at least one.
    const share = (n: number) => Math.max(1, Math.round((n * options.perClass) / FULL_PER_CLASS));
    expect(added.filter((c) => c.source === 'wesnoth').map((c) => c.key)).toEqual(
      Array.from({ length: share(40) }, (_, i) => `wesnoth#${i}`),
    );
    expect(added.filter((c) => c.source === 'ksquares')).toHaveLength(share(40));
    expect(added.filter((c) => c.source === 'deck-c')).toHaveLength(share(10));
    expect(logs).toContain(`gaming: + ${share(40)} clips from the extra source ksquares`);
    // At the full build's quota an extra source gets all its clips.
    const full = allocate([...extras, ...base], { ...options, perClass: FULL_PER_CLASS });
    expect(full.filter((c) => c.source === 'wesnoth')).toHaveLength(40);
  });

  it('cuts only missing clips, and with --extras-only only the extra sources', () => {
    const cut = (exists: boolean, sheetsOnly: boolean, extrasOnly: boolean, extra: boolean) =>
      shouldCut({ exists, sheetsOnly, extrasOnly, extra });
    expect(cut(false, false, false, false)).toBe(true);
    expect(cut(true, false, false, true)).toBe(false);
    expect(cut(false, true, false, true)).toBe(false);
    expect(cut(false, false, true, false)).toBe(false);
    expect(cut(false, false, true, true)).toBe(true);
    // --only: the listed sources' missing clips, and nothing else.
    const only = new Set(['xaos']);
    expect(shouldCut({ exists: false, sheetsOnly: false, extrasOnly: true, extra: true, only, source: 'xaos' })).toBe(true);
    expect(shouldCut({ exists: false, sheetsOnly: false, extrasOnly: true, extra: true, only, source: 'knights' })).toBe(false);
    expect(shouldCut({ exists: true, sheetsOnly: false, extrasOnly: false, extra: false, only, source: 'xaos' })).toBe(false);
  });
});
