/** Which candidate clips the corpus takes, per class: the allocation `build.ts` uses. */
import { seededRandom, shuffled } from './seeded.ts';

/** What the allocation reads of a candidate clip. */
export interface Allocatable {
  classId: string;
  subclass: string;
  source: string;
  /** A source added after the full build: allocated on top of the class quota. */
  extra?: boolean;
}

/** The quota the extra sources' clip counts are meant for (the full build's --per-class). */
export const FULL_PER_CLASS = 400;

/** Round-robin over keys: one item of each queue in turn until all are empty. */
export function interleave<T>(queues: T[][]): T[] {
  const out: T[] = [];
  for (let round = 0; queues.some((q) => q.length > round); round++)
    for (const q of queues) if (q[round] !== undefined) out.push(q[round]!);
  return out;
}

/**
 * Takes candidates round-robin over the subclasses of each class and, inside a subclass, over its
 * sources (in a seeded order), until the class has `perClass`: every subclass and every source gets
 * its share.
 *
 * Extra sources (added after the full build) stay out of that round-robin, which would otherwise
 * hand some of the clips already cut to them: each gets its first maxClips clips on top of the
 * quota (scaled down with a smaller perClass), so adding one never changes the clips chosen before.
 */
export function allocate<C extends Allocatable>(
  cands: C[],
  o: { classes: readonly string[]; perClass: number; seed: string; log?: (msg: string) => void },
): C[] {
  const chosen: C[] = [];
  for (const cls of o.classes) {
    const extras = new Map<string, C[]>();
    for (const c of cands.filter((c) => c.classId === cls && c.extra)) extras.set(c.source, [...(extras.get(c.source) ?? []), c]);
    const mine = cands.filter((c) => c.classId === cls && !c.extra);
    const subclasses = [...new Set(mine.map((c) => c.subclass))].sort();
    const perSubclass = subclasses.map((sub) => {
      const bySource = new Map<string, C[]>();
      for (const c of mine.filter((c) => c.subclass === sub)) bySource.set(c.source, [...(bySource.get(c.source) ?? []), c]);
      const order = shuffled(seededRandom(o.seed, `sources:${cls}:${sub}`), [...bySource.keys()].sort());
      return interleave(order.map((s) => bySource.get(s)!));
    });
    const picked = interleave(perSubclass).slice(0, o.perClass);
    chosen.push(...picked);
    o.log?.(`${cls}: ${picked.length} clips from ${new Set(picked.map((c) => c.source)).size} sources (${mine.length} candidates)`);
    for (const [source, list] of [...extras].sort((a, b) => a[0].localeCompare(b[0]))) {
      const take = list.slice(0, Math.max(1, Math.round((list.length * o.perClass) / FULL_PER_CLASS)));
      chosen.push(...take);
      o.log?.(`${cls}: + ${take.length} clips from the extra source ${source}`);
    }
  }
  return chosen;
}

/**
 * Whether the build cuts a clip: never when it exists or with --sheets-only; with --extras-only,
 * only the extra sources' clips; with --only, only the listed sources' clips (the others are
 * labelled if they exist, never (re)made).
 */
export function shouldCut(o: {
  exists: boolean;
  sheetsOnly: boolean;
  extrasOnly: boolean;
  extra: boolean;
  only?: ReadonlySet<string>;
  source?: string;
}): boolean {
  return !o.exists && !o.sheetsOnly && (!o.extrasOnly || o.extra) && (!o.only || (o.source !== undefined && o.only.has(o.source)));
}
