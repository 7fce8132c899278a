/**
 * Train/val/test split, stratified by class and grouped by source: every clip of a source (a game,
 * a deck, a package) lands in the same part, so the model is never tested on a source it trained on.
 */
import type { Rng } from './rng.ts';

export type SplitPart = 'train' | 'val' | 'test';
export const SPLIT_PARTS: readonly SplitPart[] = ['train', 'val', 'test'];

export interface SplitItem {
  key: string;
  class: string;
  source: string;
}

/**
 * Assigns each item a part. Sources are stratified by their majority class; within a class each part
 * first draws one source that fits its share, then the others are shuffled (seeded) and placed
 * largest first into the part whose clip count is furthest below its target fraction, which keeps
 * the proportions close even when sources differ in size.
 */
export function splitBySource(items: SplitItem[], fractions: readonly [number, number, number], rng: Rng): Map<string, SplitPart> {
  const total = fractions[0] + fractions[1] + fractions[2];
  if (!(total > 0)) throw new RangeError('split fractions must not all be 0');
  const frac = fractions.map((f) => f / total);
  const sourcesByClass = sourcesByMajorityClass(items);
  const out = new Map<string, SplitPart>();
  for (const cls of [...sourcesByClass.keys()].sort()) {
    const group = rng.shuffle(sourcesByClass.get(cls)!);
    // Stable sort keeps the shuffled order among equal sizes.
    group.sort((a, b) => b.items.length - a.items.length);
    const n = group.reduce((a, g) => a + g.items.length, 0);
    const have = [0, 0, 0];
    const place = (g: (typeof group)[number], p: number) => {
      have[p]! += g.items.length;
      for (const it of g.items) out.set(it.key, SPLIT_PARTS[p]!);
    };
    // With enough sources, every part gets one first, so a small class still has validation and test
    // clips: the smallest part first, a source drawn at random among those that fit in the part's
    // share (or the smallest left, if none fits). Drawing, not always taking the smallest, lets
    // each seed hold out other sources. The rest goes greedily by deficit.
    const parts = [0, 1, 2].filter((p) => frac[p]! > 0).sort((a, b) => frac[a]! - frac[b]! || b - a);
    let rest = group;
    if (group.length >= parts.length) {
      for (const p of parts) {
        const fit = Math.max(frac[p]! * n, rest[rest.length - 1]!.items.length);
        const eligible = rest.filter((g) => g.items.length <= fit);
        const pick = eligible[Math.floor(rng.next() * eligible.length)]!;
        place(pick, p);
        rest = rest.filter((g) => g !== pick);
      }
    }
    for (const g of rest) {
      let best = 0;
      let bestDeficit = -Infinity;
      for (let p = 0; p < 3; p++) {
        if (frac[p] === 0) continue;
        const deficit = frac[p]! * n - have[p]!;
        if (deficit > bestDeficit) {
          bestDeficit = deficit;
          best = p;
        }
      }
      place(g, best);
    }
  }
  return out;
}

/**
 * Deals the sources into k folds for cross-validation: stratified by each source's majority class
 * (every class's sources spread over the folds), within a class shuffled (seeded) and placed largest
 * first into the fold holding the fewest clips of that class (ties: fewest clips overall, then the
 * lowest index). A class with fewer than k sources leaves some folds without it.
 *
 * `pinned` (source -> fold, e.g. an earlier cross-validation's) keeps those sources in their folds,
 * and only the others are dealt, into the folds that hold the fewest clips once the pinned are in.
 * That lets a corpus with added sources be compared with the earlier one on the same held-out folds.
 * The seeded shuffle runs as without pins, so pinning every source reproduces the unpinned deal's
 * random stream (and the train/val split drawn after it).
 */
export function foldsBySource(items: SplitItem[], k: number, rng: Rng, pinned?: ReadonlyMap<string, number>): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer >= 2, got ${k}`);
  for (const [source, f] of pinned ?? [])
    if (!Number.isInteger(f) || f < 0 || f >= k) throw new RangeError(`source ${source} is pinned to fold ${f}, not one of the ${k} folds`);
  const sourcesByClass = sourcesByMajorityClass(items);
  const out = new Map<string, number>();
  const total = new Array<number>(k).fill(0);
  for (const cls of [...sourcesByClass.keys()].sort()) {
    const group = rng.shuffle(sourcesByClass.get(cls)!);
    group.sort((a, b) => b.items.length - a.items.length);
    const mine = new Array<number>(k).fill(0);
    const place = (g: (typeof group)[number], f: number) => {
      mine[f]! += g.items.length;
      total[f]! += g.items.length;
      for (const it of g.items) out.set(it.key, f);
    };
    for (const g of group) if (pinned?.has(g.source)) place(g, pinned.get(g.source)!);
    for (const g of group) {
      if (pinned?.has(g.source)) continue;
      let best = 0;
      for (let f = 1; f < k; f++) if (mine[f]! < mine[best]! || (mine[f] === mine[best] && total[f]! < total[best]!)) best = f;
      place(g, best);
    }
  }
  return out;
}

/**
 * The split of one cross-validation fold: the sources foldsBySource deals into fold `fold` are the
 * test part; the other sources go to train and val by splitBySource with the first two fractions.
 * Every fold of a cross-validation uses the same seed, so the folds partition the sources.
 */
export function crossValidationSplit(
  items: SplitItem[],
  fractions: readonly [number, number, number],
  folds: number,
  fold: number,
  rng: Rng,
  pinned?: ReadonlyMap<string, number>,
): Map<string, SplitPart> {
  if (!Number.isInteger(fold) || fold < 0 || fold >= folds) throw new RangeError(`fold must be an integer in [0, ${folds}), got ${fold}`);
  const foldOf = foldsBySource(items, folds, rng, pinned);
  const rest = items.filter((it) => foldOf.get(it.key) !== fold);
  const out = splitBySource(rest, [fractions[0], fractions[1], 0], rng);
  for (const it of items) if (foldOf.get(it.key) === fold) out.set(it.key, 'test');
  return out;
}

/**
 * The sources (each with its clips in key order) grouped by their majority class (ties: the first
 * class by name), sources in name order: independent of the input order.
 */
function sourcesByMajorityClass(items: SplitItem[]): Map<string, Array<{ source: string; items: SplitItem[] }>> {
  const bySource = new Map<string, SplitItem[]>();
  for (const it of [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const list = bySource.get(it.source) ?? [];
    list.push(it);
    bySource.set(it.source, list);
  }
  const out = new Map<string, Array<{ source: string; items: SplitItem[] }>>();
  for (const source of [...bySource.keys()].sort()) {
    const list = bySource.get(source)!;
    const counts = new Map<string, number>();
    for (const it of list) counts.set(it.class, (counts.get(it.class) ?? 0) + 1);
    const major = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    const group = out.get(major) ?? [];
    group.push({ source, items: list });
    out.set(major, group);
  }
  return out;
}
