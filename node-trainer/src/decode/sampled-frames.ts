/** Decodes the frames of one or more sample plans of a file in one go (TTA shifts share a decode). */
import type { RgbaFrame } from '../../../src/core/preprocess.ts';
import type { SamplePlan } from '../../../src/core/sampling.ts';
import { decodeFrames, type DecodeOptions } from './frames.ts';
import type { VideoInfo } from './probe.ts';

/** For each plan, its frames in plan order (`timestamps`, repeats included; repeated frames are shared). */
export async function decodePlans(file: string, info: VideoInfo, plans: SamplePlan[], opts: DecodeOptions = {}): Promise<RgbaFrame[][]> {
  const unique = [...new Set(plans.flatMap((p) => p.unique))].sort((a, b) => a - b);
  const frames = await decodeFrames(file, info, unique, opts);
  const byTime = new Map(unique.map((t, i) => [t, frames[i]!]));
  return plans.map((p) => p.timestamps.map((t) => byTime.get(t)!));
}
