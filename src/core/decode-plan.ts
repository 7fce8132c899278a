/**
 * What a decoder must produce for a request: the sampling plans (one per temporal TTA shift), the
 * union of their timestamps (each decoded once), the capped output size, and the seek strategy used
 * where a container's seeking is imprecise. Pure logic shared by the browser decode worker and
 * node-trainer's native ffmpeg extraction.
 */
import { samplePlan, type SamplePlan } from './sampling';

/** Frames larger than this on their longest side are downscaled inside the decoder (memory bound). */
export const DEFAULT_MAX_SIDE = 1280;

/** What the caller asks of a decode. */
export interface DecodePlanRequest {
  /** Frames per plan (the head's T). */
  frames: number;
  /** Temporal TTA shifts, fractions of the sample spacing; shift 0 is always plans[0]. */
  shifts?: number[];
}

/** What is known about the stream's timing. */
export interface StreamTiming {
  durationS: number;
  /** Only for constant-frame-rate streams: timestamps snap to real frames. */
  frameRate?: number;
  frameCount?: number;
}

export interface DecodePlans {
  /** plans[0] has shift 0; then one per other requested shift, in request order. */
  plans: SamplePlan[];
  /** The shifts of `plans`, in the same order. */
  shifts: number[];
  /** Every distinct timestamp of every plan, ascending: what the decoder decodes, once each. */
  unique: number[];
}

/** The plans for a request and the union of their timestamps. */
export function decodePlans(timing: StreamTiming, request: DecodePlanRequest): DecodePlans {
  const shifts = [0, ...(request.shifts ?? []).filter((s) => s !== 0)];
  const distinctShifts = [...new Set(shifts)];
  const plans = distinctShifts.map((shift) =>
    samplePlan(timing.durationS, { frames: request.frames, shift, frameRate: timing.frameRate, frameCount: timing.frameCount }),
  );
  const unique = [...new Set(plans.flatMap((p) => p.unique))].sort((a, b) => a - b);
  return { plans, shifts: distinctShifts, unique };
}

/**
 * Key-frame snapping for long videos. A decoder reaches a sample time t by decoding from the key
 * frame before t forward to t: up to a whole GOP (250 frames in common encodes) per sample, so a 1 h
 * video costs ~4,000 decoded frames for 32 samples where a 10 s clip costs ~300. When a key frame
 * lies in [t - tolerance, t], the decoder takes that key frame instead (one decoded frame).
 *
 * The tolerance is 1/8 of the sample spacing: a sample stands for its bin (one spacing wide,
 * centred on t, or off-centre by at most a quarter spacing for the TTA shifts in use), so moving
 * back by 1/8 keeps it inside its own bin, and two sample times more than 1/8 spacing apart can
 * never snap to the same key frame. Videos shorter than SNAP_MIN_DURATION_S never snap, so the
 * 6-12 s training clips, the test fixtures and every short upload decode exactly as before.
 */
export const SNAP_SPACING_FRACTION = 1 / 8;
/** Shorter videos are cheap to decode anyway (a GOP or two per sample at most) and never snap. */
export const SNAP_MIN_DURATION_S = 60;

/** How far before a sample time (seconds) a key frame may be taken instead; 0 means no snapping. */
export function keyFrameTolerance(durationS: number, frames: number): number {
  if (!(durationS >= SNAP_MIN_DURATION_S) || !(frames >= 1)) return 0;
  return roundUs((durationS / frames) * SNAP_SPACING_FRACTION);
}

/**
 * The time to decode for sample time `t`: `keyFrameS` (the latest key frame at or before t, or
 * null if none is known) when it lies within `toleranceS` before t, else t itself.
 */
export function snapToKeyFrame(t: number, keyFrameS: number | null, toleranceS: number): number {
  if (!(toleranceS > 0) || keyFrameS === null) return t;
  // Microsecond slack: plans and container clocks are rounded to the microsecond.
  return keyFrameS <= t + 1e-6 && keyFrameS >= t - toleranceS - 1e-6 ? Math.min(t, roundUs(keyFrameS)) : t;
}

/**
 * Decoding every frame in one pass stays cheaper than one seek per sample (a run's start plus up
 * to a key-frame interval decoded, ~0.3 s) up to about this many frames per sample.
 */
export const PASS_FRAMES_PER_SAMPLE = 60;

/**
 * Whether a decoder should read the stream through once (every frame decoded, the sampled ones
 * kept) rather than seek to each of `samples` times: short videos and dense plans. Used by both
 * ffmpeg decoders, node-trainer's native one and the browser's ffmpeg.wasm fallback.
 */
export function passIsCheaper(timing: StreamTiming, samples: number): boolean {
  const frames = timing.frameCount ?? Math.ceil(timing.durationS * (timing.frameRate ?? 30));
  return frames <= PASS_FRAMES_PER_SAMPLE * Math.max(samples, 8);
}

/**
 * An ffmpeg `select` filter keeping, for each threshold a (seconds on the filter's clock), the first
 * frame with t >= a: t >= a while the frame before was earlier than a. prev_t is NaN for the first
 * frame, and gte(NaN, a) is 0, so the first frame qualifies too. A frame that is the first at or
 * after several thresholds is kept once. Used by both ffmpeg decoders' one-pass reads.
 */
export function selectFirstFramesAtOrAfter(thresholds: number[]): string {
  const terms = thresholds.map((a) => `gte(t,${a.toFixed(6)})*not(gte(prev_t,${a.toFixed(6)}))`);
  return `select='${terms.join('+')}'`;
}

function roundUs(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

/**
 * The output size of a frame whose display size is width x height: unchanged when its longest side
 * fits in `maxSide`, else scaled down keeping the aspect ratio. This only bounds memory; the
 * resize to the model's input size happens in preprocess.ts, the one resize used for training and
 * serving.
 */
export function cappedSize(width: number, height: number, maxSide: number = DEFAULT_MAX_SIDE): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new RangeError(`frame size must be positive, got ${width}x${height}`);
  if (!(maxSide >= 1)) throw new RangeError(`maxSide must be >= 1, got ${maxSide}`);
  const longest = Math.max(width, height);
  if (longest <= maxSide) return { width, height };
  const scale = maxSide / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The display size after a clockwise rotation in degrees (quarter turns swap the sides). */
export function rotatedSize(width: number, height: number, rotation: number): { width: number; height: number } {
  const quarter = ((Math.round(rotation / 90) % 4) + 4) % 4;
  return quarter % 2 === 1 ? { width: height, height: width } : { width, height };
}

/**
 * Seeking by time in containers without an index (MPEG-TS, MPEG-PS) can land after the target.
 * A decoder seeks to `target - margin`, and when the first frame it gets is already past the
 * target, retries with the next, larger margin; the last step decodes from the start.
 */
export function seekMargins(targetS: number): number[] {
  const margins = [0];
  for (const m of [1, 4, 16, 64]) if (m < targetS) margins.push(m);
  if (targetS > 0) margins.push(targetS);
  return margins;
}

/** Whether a seek that first produced a frame at `firstFrameS` landed too late for `targetS`. */
export function seekOvershot(firstFrameS: number, targetS: number, frameDurationS: number): boolean {
  return firstFrameS > targetS + Math.max(frameDurationS, 1e-3) * 0.5;
}

/**
 * Whether the first bytes of a file look like a video container (ISO-BMFF, Matroska/WebM, AVI,
 * FLV, MPEG-TS, MPEG-PS, Ogg, ASF, GIF). Tells a damaged video ('corrupt-file') from a file that is no
 * video at all ('unsupported-container'). Hand-written: a dozen well-known signatures. Pass at least the first 580 bytes.
 */
export function looksLikeVideoContainer(head: Uint8Array): boolean {
  const ascii = (at: number, text: string) => [...text].every((c, i) => head[at + i] === c.charCodeAt(0));
  const bytes = (at: number, values: number[]) => values.every((v, i) => head[at + i] === v);
  if (['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].some((box) => ascii(4, box))) return true;
  if (bytes(0, [0x1a, 0x45, 0xdf, 0xa3])) return true; // EBML: Matroska, WebM
  if (ascii(0, 'RIFF') && ascii(8, 'AVI ')) return true;
  if (ascii(0, 'FLV') || ascii(0, 'OggS')) return true;
  if (bytes(0, [0x00, 0x00, 0x01, 0xba]) || bytes(0, [0x00, 0x00, 0x01, 0xb3])) return true; // MPEG-PS, MPEG-1/2 video
  if (bytes(0, [0x30, 0x26, 0xb2, 0x75])) return true; // ASF / WMV
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return true; // (animated) GIF
  // MPEG-TS: a sync byte every 188 bytes (192 with a timecode prefix); needs the first 3 packets (580 bytes).
  return [0, 4].some((offset) => {
    const size = offset === 0 ? 188 : 192;
    return [0, 1, 2].every((k) => head[offset + k * size] === 0x47);
  });
}
