/**
 * Where in a video to look: N timestamps spread evenly over its duration, the sliding windows that
 * make the per-segment timeline, and the temporally shifted plans used for test-time augmentation.
 * Pure arithmetic shared by the browser decoder and node-trainer's ffmpeg extraction.
 */

export const DEFAULT_FRAME_COUNT = 32;

export interface SamplePlanOptions {
  /** Number of frames to sample (the head's T). Default 32. */
  frames?: number;
  /**
   * Shift of every sample, as a fraction of the spacing between samples, in [-0.5, 0.5]
   * (temporal TTA). 0 samples the centre of each of N equal bins.
   */
  shift?: number;
  /** Frames per second, when known: timestamps snap to the presentation time of a real frame. */
  frameRate?: number;
  /** Number of frames in the stream, when known (e.g. fewer frames than N). */
  frameCount?: number;
}

export interface SamplePlan {
  durationS: number;
  /** Exactly `frames` timestamps in seconds, ascending (repeats allowed for very short videos). */
  timestamps: number[];
  /** The distinct timestamps, ascending: what a decoder has to produce. */
  unique: number[];
  /** For each entry of `timestamps`, its index in `unique`. */
  indexInUnique: number[];
}

/**
 * N timestamps, the centres of N equal bins over [0, duration), optionally shifted and snapped to
 * real frames. Very short videos (or 1-frame videos, duration 0) repeat frames rather than
 * returning fewer, so that every head sees the T it was trained on.
 */
export function samplePlan(durationS: number, options: SamplePlanOptions = {}): SamplePlan {
  const frames = options.frames ?? DEFAULT_FRAME_COUNT;
  const shift = options.shift ?? 0;
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`frames must be a positive integer, got ${frames}`);
  if (!Number.isFinite(durationS) || durationS < 0) throw new RangeError(`duration must be finite and >= 0, got ${durationS}`);
  if (!(shift >= -0.5 && shift <= 0.5)) throw new RangeError(`shift must be in [-0.5, 0.5], got ${shift}`);
  const { frameRate, frameCount } = options;
  if (frameRate !== undefined && !(frameRate > 0)) throw new RangeError(`frameRate must be > 0, got ${frameRate}`);
  if (frameCount !== undefined && !(Number.isInteger(frameCount) && frameCount >= 1))
    throw new RangeError(`frameCount must be a positive integer, got ${frameCount}`);

  const step = durationS / frames;
  const timestamps: number[] = [];
  for (let i = 0; i < frames; i++) {
    let t = (i + 0.5 + shift) * step;
    t = Math.min(Math.max(t, 0), durationS);
    if (frameRate !== undefined) {
      const lastFrame = frameCount !== undefined ? frameCount - 1 : Math.max(0, Math.ceil(durationS * frameRate) - 1);
      const idx = Math.min(lastFrame, Math.max(0, Math.floor(t * frameRate + 1e-9)));
      t = idx / frameRate;
    }
    timestamps.push(roundTime(t));
  }
  const unique = [...new Set(timestamps)].sort((a, b) => a - b);
  const pos = new Map(unique.map((t, i) => [t, i]));
  return { durationS, timestamps, unique, indexInUnique: timestamps.map((t) => pos.get(t)!) };
}

/** Microsecond rounding keeps plans stable across float noise and matches container time bases. */
function roundTime(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

export interface SegmentWindow {
  /** First frame index in the plan (inclusive). */
  start: number;
  /** Last frame index (exclusive). */
  end: number;
  /** Time span covered, in seconds: from the start of the first frame's bin to the end of the last's. */
  t0: number;
  t1: number;
}

/**
 * Sliding windows over the plan's frames for the per-segment timeline: `size` frames, moving by
 * `stride`, with a last window flush with the end so that every frame is covered.
 */
export function segmentWindows(plan: SamplePlan, size = 8, stride = 4): SegmentWindow[] {
  const n = plan.timestamps.length;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`stride must be a positive integer, got ${stride}`);
  const w = Math.min(size, n);
  const starts: number[] = [];
  for (let s = 0; s + w <= n; s += stride) starts.push(s);
  if (starts[starts.length - 1] !== n - w) starts.push(n - w);
  const bin = plan.durationS / n;
  return starts.map((start) => ({
    start,
    end: start + w,
    t0: roundTime(start * bin),
    t1: roundTime((start + w) * bin),
  }));
}

/** The temporal TTA views: one plan per shift (fractions of the sample spacing). */
export function shiftedPlans(durationS: number, shifts: number[], options: Omit<SamplePlanOptions, 'shift'> = {}): SamplePlan[] {
  return shifts.map((shift) => samplePlan(durationS, { ...options, shift }));
}
