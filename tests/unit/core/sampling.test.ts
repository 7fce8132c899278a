import { describe, expect, it } from 'vitest';
import { samplePlan, segmentWindows, shiftedPlans } from '../../../src/core/sampling';

describe('samplePlan', () => {
  it('puts N timestamps at the centres of N equal bins', () => {
    const p = samplePlan(32, { frames: 32 });
    expect(p.timestamps).toHaveLength(32);
    expect(p.timestamps[0]).toBe(0.5);
    expect(p.timestamps[31]).toBe(31.5);
    expect(p.unique).toEqual(p.timestamps);
  });

  it('defaults to 32 frames', () => {
    expect(samplePlan(10).timestamps).toHaveLength(32);
  });

  it('shifts by a fraction of the spacing and clamps to the video', () => {
    expect(samplePlan(4, { frames: 4, shift: 0.25 }).timestamps).toEqual([0.75, 1.75, 2.75, 3.75]);
    expect(samplePlan(4, { frames: 4, shift: -0.5 }).timestamps).toEqual([0, 1, 2, 3]);
    expect(samplePlan(4, { frames: 4, shift: 0.5 }).timestamps).toEqual([1, 2, 3, 4]);
  });

  it('snaps to real frames and repeats them when the video has fewer frames than N', () => {
    const p = samplePlan(0.4, { frames: 8, frameRate: 10, frameCount: 4 });
    expect(p.timestamps).toEqual([0, 0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3]);
    expect(p.unique).toEqual([0, 0.1, 0.2, 0.3]);
    expect(p.indexInUnique).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('handles a one-frame video (duration 0)', () => {
    const p = samplePlan(0, { frames: 32 });
    expect(p.timestamps.every((t) => t === 0)).toBe(true);
    expect(p.unique).toEqual([0]);
  });

  it('never exceeds the last frame when snapping', () => {
    const p = samplePlan(1, { frames: 3, frameRate: 30, shift: 0.5 });
    expect(Math.max(...p.timestamps)).toBeLessThanOrEqual(29 / 30 + 1e-6);
  });

  it('rejects nonsense', () => {
    expect(() => samplePlan(-1)).toThrow(RangeError);
    expect(() => samplePlan(Number.NaN)).toThrow(RangeError);
    expect(() => samplePlan(10, { frames: 0 })).toThrow(RangeError);
    expect(() => samplePlan(10, { frames: 2.5 })).toThrow(RangeError);
    expect(() => samplePlan(10, { shift: 0.7 })).toThrow(RangeError);
  });

  it('is exact for long videos', () => {
    const p = samplePlan(7200, { frames: 32 });
    expect(p.timestamps[0]).toBe(112.5);
    expect(p.timestamps[31]).toBe(7087.5);
  });
});

describe('segmentWindows', () => {
  it('covers every frame with sliding windows, the last flush with the end', () => {
    const w = segmentWindows(samplePlan(32, { frames: 32 }), 8, 4);
    expect(w.map((x) => x.start)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(w[0]).toEqual({ start: 0, end: 8, t0: 0, t1: 8 });
    expect(w[w.length - 1]!.end).toBe(32);
    expect(w[w.length - 1]!.t1).toBe(32);
  });

  it('adds a final window when the stride does not divide evenly', () => {
    const w = segmentWindows(samplePlan(10, { frames: 10 }), 4, 4);
    expect(w.map((x) => [x.start, x.end])).toEqual([
      [0, 4],
      [4, 8],
      [6, 10],
    ]);
  });

  it('uses one window when there are fewer frames than the window', () => {
    const w = segmentWindows(samplePlan(3, { frames: 3 }), 8, 4);
    expect(w).toEqual([{ start: 0, end: 3, t0: 0, t1: 3 }]);
  });
});

describe('shiftedPlans', () => {
  it('gives one plan per temporal TTA shift', () => {
    const plans = shiftedPlans(8, [0, -0.25, 0.25], { frames: 4 });
    expect(plans.map((p) => p.timestamps[0])).toEqual([1, 0.5, 1.5]);
  });
});
