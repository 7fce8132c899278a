/**
 * Decodes started ahead of their consumer, in input order, a bounded number at a time (`vidkind
 * extract` and `vidkind classify`: each decode is an ffmpeg child process, overlapping inference).
 */
import { availableParallelism } from 'node:os';
import { VidkindError } from '../../../src/core/errors.ts';

/**
 * Files decoded ahead of the one being processed, by default: one ffmpeg per core plus one (at most
 * 8; each holds its file's frames until its turn). Decoding dominates, so the cores are kept busy:
 * on 2 cores, 3 ahead gave 10.3-10.6 frames/s against 7.8-9.1 with 1 (node-trainer/bench/extract.ts).
 */
export const defaultDecodeAhead = () => Math.min(8, availableParallelism() + 1);

/** A decode's outcome: a failure is handled when its item's turn comes, not when it happens. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export class AheadQueue<T, R> {
  private readonly ahead: Array<Promise<Settled<R>>> = [];
  private queued = 0;
  private readonly depth: number;

  /** Starts the first `depth` decodes (at least one); none start once `stopped()` is true. */
  constructor(
    private readonly items: readonly T[],
    depth: number,
    private readonly start: (item: T) => Promise<R>,
    private readonly stopped: () => boolean,
  ) {
    this.depth = Math.max(1, depth);
    this.refill();
  }

  /** The next item's outcome, in input order, then starts the next decode; a cancelled error once stopped. */
  async next(): Promise<Settled<R>> {
    const current = this.ahead.shift();
    const outcome = current ? await current : { ok: false as const, error: new VidkindError('cancelled', 'Cancelled.') };
    this.refill();
    return outcome;
  }

  /** Waits for the decodes still running (after a stop). */
  async drain(): Promise<void> {
    await Promise.all(this.ahead);
  }

  private refill(): void {
    while (this.queued < this.items.length && this.ahead.length < this.depth && !this.stopped())
      this.ahead.push(
        this.start(this.items[this.queued++]!).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      );
  }
}
