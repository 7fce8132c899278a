import { describe, expect, it } from 'vitest';
import { samplePlan } from '../../../src/core/sampling.ts';
import { subsampleFrames, type ClipSet } from '../../src/train/data.ts';

/** A set of one clip whose frame t holds the values t*10 + d (as float16 bit patterns, opaque here). */
function set(frames: number, dim: number): ClipSet {
  const half = Uint16Array.from({ length: frames * dim }, (_, i) => Math.floor(i / dim) * 10 + (i % dim));
  return { frames, dim, keys: ['a'], labels: Int32Array.of(0), subLabels: Int32Array.of(-1), half: [half] };
}

describe('subsampleFrames', () => {
  it('keeps, for each of n samples, the stored frame nearest its time', () => {
    const s = subsampleFrames(set(32, 2), 16);
    expect(s.frames).toBe(16);
    const frameOf = (j: number) => s.half[0]![j * 2]! / 10;
    expect(Array.from({ length: 16 }, (_, j) => frameOf(j))).toEqual(Array.from({ length: 16 }, (_, j) => 2 * j + 1));
    expect(s.half[0]![3]).toBe(31); // frame 3, second feature
    // Each kept frame is within half a stored bin of the time the app would sample.
    const d = 60;
    const stored = samplePlan(d, { frames: 32 }).timestamps;
    samplePlan(d, { frames: 16 }).timestamps.forEach((t, j) =>
      expect(Math.abs(stored[frameOf(j)]! - t)).toBeLessThanOrEqual(d / 32 / 2 + 1e-9),
    );
  });

  it('returns the set itself for n = T and refuses n outside 1..T', () => {
    const s = set(8, 3);
    expect(subsampleFrames(s, 8)).toBe(s);
    expect(subsampleFrames(s, 1).half[0]![0]).toBe(40);
    expect(() => subsampleFrames(s, 9)).toThrow(RangeError);
    expect(() => subsampleFrames(s, 0)).toThrow(RangeError);
    expect(() => subsampleFrames(s, 2.5)).toThrow(RangeError);
  });
});
