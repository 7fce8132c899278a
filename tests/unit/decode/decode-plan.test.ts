import { describe, expect, it } from 'vitest';
import {
  cappedSize,
  decodePlans,
  looksLikeVideoContainer,
  passIsCheaper,
  rotatedSize,
  seekMargins,
  seekOvershot,
  selectFirstFramesAtOrAfter,
} from '../../../src/core/decode-plan';

describe('decodePlans', () => {
  it('puts shift 0 first and decodes the union of all plans once', () => {
    const { plans, shifts, unique } = decodePlans({ durationS: 10 }, { frames: 4, shifts: [0.25, -0.25, 0.25] });
    expect(shifts).toEqual([0, 0.25, -0.25]);
    expect(plans.map((p) => p.timestamps)).toEqual([
      [1.25, 3.75, 6.25, 8.75],
      [1.875, 4.375, 6.875, 9.375],
      [0.625, 3.125, 5.625, 8.125],
    ]);
    expect(unique).toEqual([...plans.flatMap((p) => p.timestamps)].sort((a, b) => a - b));
  });

  it('snaps to real frames at a constant rate, so shifted plans can share frames', () => {
    const { plans, unique } = decodePlans({ durationS: 1, frameRate: 4, frameCount: 4 }, { frames: 8, shifts: [0.5] });
    for (const p of plans) for (const t of p.timestamps) expect(t * 4).toBe(Math.round(t * 4));
    expect(unique).toEqual([0, 0.25, 0.5, 0.75]);
  });

  it('costs the number of samples, not the length of the video', () => {
    const minute = decodePlans({ durationS: 60, frameRate: 30 }, { frames: 32, shifts: [-0.25, 0.25] });
    const film = decodePlans({ durationS: 7200, frameRate: 30 }, { frames: 32, shifts: [-0.25, 0.25] });
    expect(film.unique.length).toBe(minute.unique.length);
    expect(film.unique.length).toBe(96);
  });

  it('a one-frame video gives one timestamp to decode for the whole plan', () => {
    const { plans, unique } = decodePlans({ durationS: 0.04, frameRate: 25, frameCount: 1 }, { frames: 32 });
    expect(plans[0]!.timestamps).toHaveLength(32);
    expect(unique).toEqual([0]);
  });
});

describe('cappedSize and rotatedSize', () => {
  it('keeps frames that fit and scales larger ones down, keeping the aspect ratio', () => {
    expect(cappedSize(320, 240)).toEqual({ width: 320, height: 240 });
    expect(cappedSize(3840, 2160)).toEqual({ width: 1280, height: 720 });
    expect(cappedSize(1080, 1920, 1280)).toEqual({ width: 720, height: 1280 });
    expect(cappedSize(321, 241, 160)).toEqual({ width: 160, height: 120 });
    expect(cappedSize(10000, 3, 100)).toEqual({ width: 100, height: 1 });
    expect(() => cappedSize(0, 10)).toThrow(RangeError);
  });

  it('swaps the sides for quarter turns only', () => {
    expect(rotatedSize(320, 240, 90)).toEqual({ width: 240, height: 320 });
    expect(rotatedSize(320, 240, 270)).toEqual({ width: 240, height: 320 });
    expect(rotatedSize(320, 240, -90)).toEqual({ width: 240, height: 320 });
    expect(rotatedSize(320, 240, 180)).toEqual({ width: 320, height: 240 });
  });
});

describe('seek strategy', () => {
  it('tries the exact time first, then earlier, ending at the start', () => {
    expect(seekMargins(0)).toEqual([0]);
    expect(seekMargins(2.5)).toEqual([0, 1, 2.5]);
    expect(seekMargins(3600)).toEqual([0, 1, 4, 16, 64, 3600]);
  });

  it('calls a seek overshot when the first frame is more than half a frame late', () => {
    expect(seekOvershot(2.0, 1.2, 0.04)).toBe(true);
    expect(seekOvershot(1.21, 1.2, 0.04)).toBe(false);
    expect(seekOvershot(1.0, 1.2, 0.04)).toBe(false);
  });
});

describe('passIsCheaper', () => {
  it('reads short videos through once and seeks in long ones, by frames per sample', () => {
    // 10 s at 30 fps, 16 samples: 300 frames, under 60 per sample.
    expect(passIsCheaper({ durationS: 10, frameRate: 30, frameCount: 300 }, 16)).toBe(true);
    // 60 s at 30 fps: 1,800 frames for 16 samples is more than 60 each; for 32 samples it is not.
    expect(passIsCheaper({ durationS: 60, frameRate: 30, frameCount: 1800 }, 16)).toBe(false);
    expect(passIsCheaper({ durationS: 60, frameRate: 30, frameCount: 1800 }, 32)).toBe(true);
    // A frame count is preferred to duration x rate; without either rate, 30 fps is assumed.
    expect(passIsCheaper({ durationS: 600, frameRate: 25, frameCount: 400 }, 8)).toBe(true);
    expect(passIsCheaper({ durationS: 17 }, 8)).toBe(false);
    expect(passIsCheaper({ durationS: 16 }, 8)).toBe(true);
    // Few samples are costed as 8: a seek has a fixed cost too.
    expect(passIsCheaper({ durationS: 10, frameRate: 30 }, 1)).toBe(true);
  });
});

describe('selectFirstFramesAtOrAfter', () => {
  it('keeps the first frame at or after each threshold, to the microsecond', () => {
    expect(selectFirstFramesAtOrAfter([0.5, 1.2345678])).toBe(
      "select='gte(t,0.500000)*not(gte(prev_t,0.500000))+gte(t,1.234568)*not(gte(prev_t,1.234568))'",
    );
  });
});

describe('looksLikeVideoContainer', () => {
  const bytes = (...parts: (string | number[])[]) => {
    const out: number[] = [];
    for (const p of parts) out.push(...(typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p));
    return new Uint8Array([...out, ...new Array(600).fill(0)]);
  };

  it('recognises container signatures', () => {
    expect(looksLikeVideoContainer(bytes([0, 0, 0, 32], 'ftypisom'))).toBe(true);
    expect(looksLikeVideoContainer(bytes([0x1a, 0x45, 0xdf, 0xa3]))).toBe(true);
    expect(looksLikeVideoContainer(bytes('RIFF', [1, 2, 3, 4], 'AVI LIST'))).toBe(true);
    expect(looksLikeVideoContainer(bytes('FLV', [1]))).toBe(true);
    expect(looksLikeVideoContainer(bytes('GIF89a', [160, 0, 120, 0]))).toBe(true);
    const ts = new Uint8Array(600);
    ts[0] = ts[188] = ts[376] = 0x47;
    expect(looksLikeVideoContainer(ts)).toBe(true);
  });

  it('rejects text and lone sync bytes', () => {
    expect(looksLikeVideoContainer(bytes('This is a plain text file with a video extension.'))).toBe(false);
    expect(looksLikeVideoContainer(bytes('G is for sync byte'))).toBe(false);
    expect(looksLikeVideoContainer(new Uint8Array(0))).toBe(false);
  });
});
