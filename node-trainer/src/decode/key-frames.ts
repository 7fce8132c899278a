/**
 * Key-frame snapping for native ffmpeg, the same rule as the browser's WebCodecs path
 * (src/core/decode-plan.ts keyFrameTolerance / snapToKeyFrame): on long videos a key frame within
 * the tolerance before a sample time is decoded instead of that time. The key frames come from one
 * ffprobe reading only the packet headers of the windows [t - tolerance, t] (no decoding).
 */
import { snapToKeyFrame } from '../../../src/core/decode-plan.ts';
import { runChild } from './child.ts';
import { ffmpegError } from './ffmpeg-errors.ts';
import type { VideoInfo } from './probe.ts';

/** Microseconds of slack on the window edges: plan times and container clocks round to the microsecond. */
const EDGE_S = 1e-6;

/**
 * For each timestamp (seconds from the first frame), the latest key frame in [t - toleranceS, t],
 * or null when that window has none. Key frames are packets that ffprobe flags K.
 */
export async function keyFramesInWindows(
  file: string,
  info: VideoInfo,
  timestamps: number[],
  toleranceS: number,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Array<number | null>> {
  if (timestamps.length === 0 || !(toleranceS > 0)) return timestamps.map(() => null);
  // -read_intervals seeks to the key frame before each window start and reads packets to its end:
  // a GOP or so of packet headers per sample.
  const intervals = timestamps
    .map((t) => `${Math.max(0, info.startS + t - toleranceS - EDGE_S).toFixed(6)}%${(info.startS + t + EDGE_S).toFixed(6)}`)
    .join(',');
  const args = ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', intervals];
  args.push('-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file);
  const res = await runChild('ffprobe', args, { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal, stage: 'probing' });
  if (res.code !== 0) throw ffmpegError(file, res.stderr);
  const keys = res.stdout
    .toString('utf8')
    .split('\n')
    .map((line) => line.split(','))
    .filter(([pts, flags]) => flags?.startsWith('K') && pts !== undefined && pts !== '' && pts !== 'N/A')
    .map(([pts]) => Number(pts) - info.startS)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  return timestamps.map((t) => {
    let best: number | null = null;
    for (const k of keys) if (k >= t - toleranceS - EDGE_S && k <= t + EDGE_S) best = k;
    return best;
  });
}

/** The times to decode for `timestamps`: each one, or the key frame within `toleranceS` before it. */
export async function snapToKeyFrames(
  file: string,
  info: VideoInfo,
  timestamps: number[],
  toleranceS: number,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<number[]> {
  if (!(toleranceS > 0)) return timestamps;
  const keys = await keyFramesInWindows(file, info, timestamps, toleranceS, opts);
  return timestamps.map((t, i) => snapToKeyFrame(t, keys[i]!, toleranceS));
}
