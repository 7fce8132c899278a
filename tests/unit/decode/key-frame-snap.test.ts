import { describe, expect, it } from 'vitest';
import { decodePlans, keyFrameTolerance, SNAP_MIN_DURATION_S, snapToKeyFrame } from '../../../src/core/decode-plan';

/** The latest key frame at or before t for key frames every `gopS` seconds from 0 (what a demuxer index answers). */
const keyEvery = (gopS: number) => (t: number) => Math.floor(t / gopS + 1e-9) * gopS;

describe('keyFrameTolerance', () => {
  it('is 0 (no snapping) for every video shorter than a minute, whatever the head T', () => {
    // Training clips are 6-12 s and the e2e fixtures 4 s: all of them, and more, fall in this range.
    for (let d = 0; d < SNAP_MIN_DURATION_S; d += 0.05)
      for (const frames of [1, 2, 8, 16, 32, 64]) expect(keyFrameTolerance(d, frames)).toBe(0);
  });

  it('is 1/8 of the sample spacing from a minute on', () => {
    expect(keyFrameTolerance(60, 32)).toBeCloseTo(60 / 32 / 8, 6);
    expect(keyFrameTolerance(3600, 32)).toBe(14.0625);
    expect(keyFrameTolerance(600, 8)).toBe(9.375);
  });
});

describe('snapToKeyFrame', () => {
  it('takes the key frame only when it lies in [t - tolerance, t]', () => {
    expect(snapToKeyFrame(100, 95, 10)).toBe(95);
    expect(snapToKeyFrame(100, 90, 10)).toBe(90); // the window's edge is inside
    expect(snapToKeyFrame(100, 89.9, 10)).toBe(100); // too far back: decode up to t as before
    expect(snapToKeyFrame(100, 100, 10)).toBe(100);
    expect(snapToKeyFrame(100, null, 10)).toBe(100); // no key frame before t
    expect(snapToKeyFrame(100, 95, 0)).toBe(100); // snapping off
  });

  it('leaves every sample time of short videos alone, even with a key frame one frame before each', () => {
    for (const durationS of [4, 6, 9.5, 12, 30, 59.9])
      for (const frames of [8, 32]) {
        const { unique } = decodePlans({ durationS, frameRate: 25 }, { frames, shifts: [-0.25, 0.25] });
        const tol = keyFrameTolerance(durationS, frames);
        for (const t of unique) {
          expect(snapToKeyFrame(t, Math.max(0, t - 0.04), tol)).toBe(t);
          expect(snapToKeyFrame(t, keyEvery(1)(t), tol)).toBe(t);
        }
      }
  });

  it('takes one key frame per sample of a 1 h video with 10 s GOPs, each inside its own bin', () => {
    const durationS = 3600;
    const frames = 32;
    const tol = keyFrameTolerance(durationS, frames);
    const spacing = durationS / frames;
    const key = keyEvery(10);
    const { plans, unique } = decodePlans({ durationS, frameRate: 25 }, { frames, shifts: [-0.25, 0.25] });
    const snapped = unique.map((t) => snapToKeyFrame(t, key(t), tol));
    // Every GOP is shorter than the tolerance, so every sample lands on a key frame ...
    snapped.forEach((s, i) => {
      expect(s).toBe(key(unique[i]!));
      expect(unique[i]! - s).toBeLessThanOrEqual(tol);
    });
    // ... and distinct samples stay distinct (shifts a quarter spacing apart never share one).
    expect(new Set(snapped).size).toBe(unique.length);
    for (const [p, plan] of plans.entries()) {
      const shift = [0, -0.25, 0.25][p]!;
      plan.timestamps.forEach((t, i) => {
        const s = snapToKeyFrame(t, key(t), tol);
        expect(s).toBeGreaterThanOrEqual(i * spacing);
        expect(s).toBeLessThan((i + 1) * spacing);
        expect(Math.abs(s - (i + 0.5 + shift) * spacing)).toBeLessThanOrEqual(tol + 0.04);
      });
    }
  });

  it('snaps only the samples whose key frame is near enough when GOPs are longer than the tolerance', () => {
    const tol = keyFrameTolerance(600, 32); // 2.34375 s
    const key = keyEvery(10);
    const { unique } = decodePlans({ durationS: 600, frameRate: 25 }, { frames: 32 });
    const snapped = unique.map((t) => snapToKeyFrame(t, key(t), tol));
    const moved = snapped.filter((s, i) => s !== unique[i]);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(unique.length);
    snapped.forEach((s, i) => expect(s === unique[i] || s === key(unique[i]!)).toBe(true));
  });
});
