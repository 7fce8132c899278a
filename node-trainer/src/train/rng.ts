/**
 * A small seeded PRNG (mulberry32) whose whole state is one uint32, so a checkpoint can store it and
 * `--resume` continues the exact random sequence (shuffles, dropout masks) of an uninterrupted run.
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** The state to checkpoint; `Rng.fromState` continues from it. */
  get state(): number {
    return this.s;
  }
  static fromState(state: number): Rng {
    return new Rng(state);
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /**
   * A draw from Beta(a, a), 0 < a <= 1 (mixup's mixing weight), by Johnk's algorithm: written here
   * because it must come from this seeded, checkpointed stream, which no sampling library takes.
   */
  betaSymmetric(a: number): number {
    if (!(a > 0 && a <= 1)) throw new RangeError(`Beta parameter must be in (0, 1], got ${a}`);
    for (;;) {
      const x = Math.pow(this.next(), 1 / a);
      const y = Math.pow(this.next(), 1 / a);
      if (x + y <= 1 && x + y > 0) return x / (x + y);
    }
  }
  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
  /** A fresh seed for a derived stream (e.g. one per ensemble member). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}
