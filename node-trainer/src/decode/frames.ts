/**
 * Native ffmpeg decoding of the frames at a sample plan's timestamps, as RGBA at the display size
 * (rotation applied, longest side capped like the browser's decoder). The model-size resize is
 * not done here: it is src/core/preprocess's job, so training and serving see the same pixels.
 *
 * Two strategies, both giving, for each timestamp t, the first frame whose time is >= t (plans snap
 * t to real frame times on constant-rate streams, so that is the frame shown at t):
 *   - `pass`: one ffmpeg reading the whole stream through a `select` filter. Exact in every
 *     container, and one process start: on the 4 s fixtures 0.2-0.6 s against 3-12 s for `seek`.
 *   - `seek`: one short ffmpeg per timestamp, seeking before the target and keeping the first frame
 *     at or after it (retrying further back where MPEG-TS/PS seeks overshoot). Its cost grows with
 *     the number of samples, not the video's length, so it wins on long videos.
 * `auto` uses `pass` up to PASS_FRAMES_PER_SAMPLE decoded frames per sample (src/core/decode-plan.ts);
 * bench/extract.ts measures both.
 */
import { passIsCheaper, seekMargins, seekOvershot, selectFirstFramesAtOrAfter } from '../../../src/core/decode-plan.ts';
import { VidkindError, throwIfCancelled } from '../../../src/core/errors.ts';
import type { RgbaFrame } from '../../../src/core/preprocess.ts';
import { runChild } from './child.ts';
import { ffmpegError } from './ffmpeg-errors.ts';
import { outputSize, type VideoInfo } from './probe.ts';

export type DecodeStrategy = 'seek' | 'pass' | 'auto';

export interface DecodeOptions {
  strategy?: DecodeStrategy;
  /** Time limit for the whole decode of one file (all samples), in ms. */
  timeoutMs?: number;
  /** Parallel ffmpeg processes for the `seek` strategy. */
  concurrency?: number;
  signal?: AbortSignal;
}

const BASE_ARGS = ['-hide_banner', '-nostdin', '-nostats'];

function filterChain(info: VideoInfo): { vf: string; width: number; height: number } {
  const { width, height } = outputSize(info);
  // `area` averages when shrinking (no aliasing on 4K input); autorotation runs before this filter.
  return { vf: `scale=${width}:${height}:flags=area`, width, height };
}

/** Chooses the strategy for a file and a number of distinct samples. */
export function chooseStrategy(info: VideoInfo, samples: number, wanted: DecodeStrategy = 'auto'): 'seek' | 'pass' {
  if (wanted !== 'auto') return wanted;
  return passIsCheaper(info, samples) ? 'pass' : 'seek';
}

/**
 * Decodes the frames at `timestamps` (ascending, distinct: a plan's `unique`). Returns one frame per
 * timestamp. A timestamp past the last decodable frame gets the last frame before it.
 */
export async function decodeFrames(file: string, info: VideoInfo, timestamps: number[], opts: DecodeOptions = {}): Promise<RgbaFrame[]> {
  if (timestamps.length === 0) return [];
  const strategy = chooseStrategy(info, timestamps.length, opts.strategy);
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const frames =
    strategy === 'pass'
      ? await decodePass(file, info, timestamps, deadline, opts)
      : await decodeSeek(file, info, timestamps, deadline, opts);
  // Fill timestamps past the end from the nearest earlier frame (or later, if none came before).
  let prev: RgbaFrame | undefined = frames.find((f) => f);
  if (!prev) throw new VidkindError('too-short', `${file} has no decodable video frame.`);
  return frames.map((f) => (f ? (prev = f) : prev!));
}

function remaining(deadline: number, file: string): number {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new VidkindError('timeout', `Decoding ${file} took too long.`);
  return ms;
}

/** Splits a raw RGBA byte stream into frames of a known size. */
function frameCollector(width: number, height: number) {
  const size = width * height * 4;
  const frames: RgbaFrame[] = [];
  let cur = new Uint8Array(size);
  let fill = 0;
  return {
    frames,
    push(chunk: Buffer) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(size - fill, chunk.length - off);
        cur.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === size) {
          frames.push({ width, height, data: cur });
          cur = new Uint8Array(size);
          fill = 0;
        }
      }
    },
  };
}

/**
 * Runs ffmpeg on the first video stream of `file` through the filter chain `vf`, collecting raw
 * RGBA frames from stdout; both decode strategies use it. Resolves to ffmpeg's log (showinfo
 * lines), rejects with a coded error when ffmpeg fails.
 */
async function ffmpegRgba(
  file: string,
  inputArgs: string[],
  vf: string,
  outputArgs: string[],
  collector: { push(chunk: Buffer): void },
  deadline: number,
  opts: DecodeOptions,
): Promise<string> {
  const args = [
    ...BASE_ARGS,
    '-v',
    'info',
    ...inputArgs,
    '-i',
    file,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    ...outputArgs,
    '-fps_mode',
    'passthrough',
    '-vf',
    vf,
    '-pix_fmt',
    'rgba',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  const res = await runChild('ffmpeg', args, {
    timeoutMs: remaining(deadline, file),
    signal: opts.signal,
    stage: 'decoding',
    onStdout: (c) => collector.push(c),
  });
  if (res.code !== 0) throw ffmpegError(file, res.stderr);
  return res.stderr;
}

async function decodeSeek(
  file: string,
  info: VideoInfo,
  timestamps: number[],
  deadline: number,
  opts: DecodeOptions,
): Promise<Array<RgbaFrame | undefined>> {
  const { vf, width, height } = filterChain(info);
  const frameS = 1 / (info.frameRate ?? 30);
  const out: Array<RgbaFrame | undefined> = new Array(timestamps.length);
  // One sample: seek a margin before the target on the container's clock (-copyts), keep the first
  // frame at or after it, and retry with a larger margin when the seek landed past the target
  // (MPEG-TS/PS have no index) -- the same procedure as the browser's ffmpeg.wasm path.
  const decodeOne = async (target: number): Promise<RgbaFrame | undefined> => {
    const abs = info.startS + Math.max(0, target - EPS);
    for (const margin of seekMargins(target)) {
      throwIfCancelled(opts.signal);
      const collector = frameCollector(width, height);
      const seek = Math.max(0, target - margin);
      const stderr = await ffmpegRgba(
        file,
        [...(seek > 0 ? ['-noaccurate_seek', '-ss', seek.toFixed(6)] : []), '-copyts'],
        `showinfo@first=checksum=0,select=gte(t\\,${abs.toFixed(6)}),${vf}`,
        ['-frames:v', '1'],
        collector,
        deadline,
        opts,
      );
      const first = /showinfo@first @.*?\bpts_time:\s*(-?[\d.e+-]+)/.exec(stderr);
      const overshot = first !== null && seek > 0 && seekOvershot(Number(first[1]) - info.startS, target, frameS);
      // No frame at all (a seek past the last keyframe lands at the end) also means: go further back.
      if (!overshot && collector.frames.length > 0) return collector.frames[0];
    }
    return undefined;
  };
  let next = 0;
  const worker = async () => {
    while (next < timestamps.length) {
      const i = next++;
      out[i] = await decodeOne(timestamps[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, timestamps.length)) }, worker));
  return out;
}

/** Half a millisecond: below any real frame spacing, above the microsecond rounding of plans. */
const EPS = 5e-4;

async function decodePass(
  file: string,
  info: VideoInfo,
  timestamps: number[],
  deadline: number,
  opts: DecodeOptions,
): Promise<Array<RgbaFrame | undefined>> {
  const { vf, width, height } = filterChain(info);
  // Keep the first frame at or after each sample time.
  const select = selectFirstFramesAtOrAfter(timestamps.map((t) => Math.max(0, t - EPS)));
  const collector = frameCollector(width, height);
  // showinfo logs each kept frame's time, which maps frames back to samples.
  const stderr = await ffmpegRgba(file, [], `${select},showinfo=checksum=0,${vf}`, [], collector, deadline, opts);
  const times = [...stderr.matchAll(/Parsed_showinfo.*?\bpts_time:\s*(-?[\d.e+-]+)/g)].map((m) => Number(m[1]));
  const frames = collector.frames;
  if (times.length !== frames.length)
    throw new VidkindError('internal', `ffmpeg returned ${frames.length} frames but logged ${times.length} for ${file}.`);
  return timestamps.map((t) => {
    const j = times.findIndex((ft) => ft >= t - EPS);
    return j >= 0 ? frames[j] : undefined;
  });
}
