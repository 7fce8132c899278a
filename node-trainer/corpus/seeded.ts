/** Deterministic randomness for the corpus: every choice is a function of (build seed, key). */
import { createHash } from 'node:crypto';

/** A random source in [0, 1) that depends only on its key, so a rebuild makes the same clips. */
export type Random = () => number;

/** Hex digest of the key under the seed: used for file names that do not reveal the class. */
export function seededHex(seed: string, key: string, length = 16): string {
  return createHash('sha256').update(`${seed}\u0000${key}`).digest('hex').slice(0, length);
}

/** mulberry32 seeded from the key's hash. */
export function seededRandom(seed: string, key: string): Random {
  let a = Number.parseInt(seededHex(seed, key, 8), 16) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform number in [lo, hi). */
export function uniform(rand: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** Picks one option with the given weights. */
export function weighted<T>(rand: Random, options: ReadonlyArray<readonly [T, number]>): T {
  const total = options.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r < 0) return value;
  }
  return options[options.length - 1]![0];
}

/** Deterministic shuffle (Fisher-Yates) of a copy. */
export function shuffled<T>(rand: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
