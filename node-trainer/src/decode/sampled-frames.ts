/** Decodes the frames of one or more sample plans of a file in one go (TTA shifts share a decode). */
import { keyFrameTolerance } from '../../../src/core/decode-plan.ts';
import type { RgbaFrame } from '../../../src/core/preprocess.ts';
import type { SamplePlan } from '../../../src/core/sampling.ts';
import { decodeFrames, type DecodeOptions } from './frames.ts';
import { snapToKeyFrames } from './key-frames.ts';
import type { VideoInfo } from './probe.ts';

/**
 * For each plan, its frames in plan order (`timestamps`, repeats included; repeated frames are shared).
 * On videos of a minute or more, a key frame shortly before a sample time is decoded instead, as the
 * browser's WebCodecs path does (src/core/decode-plan.ts keyFrameTolerance); shorter videos, the
 * training clips among them, decode the exact times.
 */
export async function decodePlans(file: string, info: VideoInfo, plans: SamplePlan[], opts: DecodeOptions = {}): Promise<RgbaFrame[][]> {
  const unique = [...new Set(plans.flatMap((p) => p.unique))].sort((a, b) => a - b);
  const first = plans[0];
  const toleranceS = first ? keyFrameTolerance(first.durationS, first.timestamps.length) : 0;
  const snapped = await snapToKeyFrames(file, info, unique, toleranceS, { signal: opts.signal });
  // Two samples can share a key frame: decode it once.
  const targets = [...new Set(snapped)].sort((a, b) => a - b);
  const frames = await decodeFrames(file, info, targets, opts);
  const byTarget = new Map(targets.map((t, i) => [t, frames[i]!]));
  const byTime = new Map(unique.map((t, i) => [t, byTarget.get(snapped[i]!)!]));
  return plans.map((p) => p.timestamps.map((t) => byTime.get(t)!));
}
