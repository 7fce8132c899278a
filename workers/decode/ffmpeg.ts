/**
 * The fallback path: ffmpeg.wasm (single-thread core, served from the site's origin and loaded
 * only when WebCodecs cannot open a file) for AVI, FLV, 3GP, MPEG-PS, HEVC, MPEG-2/4 Part 2, ...
 *
 * The file is mounted with WORKERFS (read in slices on demand, never copied whole into memory) and
 * each sample is one `ffmpeg` run that seeks to the key frame before it, decodes forward to the
 * sampled time, scales to the memory cap (the model-size resize is preprocess.ts's job) and writes
 * one raw RGBA frame. Containers whose seeking is imprecise are handled by seeking earlier and
 * retrying (core/decode-plan.ts seekMargins).
 */
import { FFmpeg, FFFSType } from '@ffmpeg/ffmpeg';
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { cappedSize, seekMargins, seekOvershot } from '../../src/core/decode-plan';
import { VidkindError } from '../../src/core/errors';
import { parseFfprobe, parseShowinfoTimes, type ProbedVideo } from '../../src/core/ffprobe';
import type { VideoInfo } from './api';
import { abortable, type FrameStats, type OpenedVideo, type RawFrame } from './source';

let instance: Promise<FFmpeg> | null = null;
let logSink: string[] | null = null;
let mountCount = 0;

/** What ffmpeg logs when it cannot decode a codec (ffmpeg.wasm's core has no AV1 software decoder). */
const NO_DECODER =
  /Decoder \(codec [^)]*\) not found|doesn't support hardware accelerated|Failed to get pixel format|Unsupported codec|no decoder/i;

/** Milliseconds the last `ffmpegCore()` call spent loading (0 when the core was already loaded). */
export let lastLoadMs = 0;

/** The loaded ffmpeg.wasm, loading it on first use. */
async function ffmpegCore(): Promise<FFmpeg> {
  if (instance) {
    lastLoadMs = 0;
    return instance;
  }
  const t0 = performance.now();
  const ff = new FFmpeg();
  ff.on('log', ({ message }) => logSink?.push(message));
  const base = self.location.href;
  instance = ff
    .load({ coreURL: new URL(coreURL, base).href, wasmURL: new URL(wasmURL, base).href })
    .then(() => ff)
    .catch((error: unknown) => {
      instance = null;
      ff.terminate();
      throw new VidkindError('internal', `The fallback decoder (ffmpeg.wasm) failed to load: ${String(error)}`);
    });
  const ready = await instance;
  lastLoadMs = performance.now() - t0;
  return ready;
}

/** Kills ffmpeg.wasm mid-run (the only way to stop a running command); the next use reloads it. */
function terminate(): void {
  const current = instance;
  instance = null;
  void current?.then((ff) => ff.terminate()).catch(() => undefined);
}

/** Runs one command and returns its log lines. */
async function run(ff: FFmpeg, kind: 'exec' | 'ffprobe', args: string[], signal: AbortSignal): Promise<{ code: number; log: string[] }> {
  const log: string[] = [];
  logSink = log;
  const onAbort = () => terminate();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await abortable(kind === 'exec' ? ff.exec(args) : ff.ffprobe(args), signal);
    return { code, log };
  } finally {
    signal.removeEventListener('abort', onAbort);
    logSink = null;
  }
}

/** Opens a file with ffmpeg.wasm: mounts it, probes it, and returns a video ready to sample. */
export async function openWithFfmpeg(file: File, signal: AbortSignal, containerKnown: boolean): Promise<OpenedVideo> {
  const ff = await abortable(ffmpegCore(), signal);
  const dir = `/input${++mountCount}`;
  // Keep the extension: ffmpeg uses it as a hint for formats without a signature (raw streams).
  const ext = /\.[a-z0-9]{1,5}$/i.exec(file.name)?.[0].toLowerCase() ?? '';
  const path = `${dir}/video${ext}`;
  await ff.createDir(dir);
  await ff.mount(FFFSType.WORKERFS, { blobs: [{ name: `video${ext}`, data: file }] }, dir);
  const unmount = () => {
    void ff
      .unmount(dir)
      .then(() => ff.deleteDir(dir))
      .catch(() => undefined);
  };
  try {
    // ffprobe's JSON arrives on stdout, i.e. in the log (with `-v error`, nothing else is there unless it
    // failed). Its exit code is not used: the wasm build reports -1 even after a good run.
    const probe = await run(ff, 'ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], signal);
    // stdout and stderr share the log: keep the lines that can be ffprobe's JSON (decoder complaints such as
    // "[av1 @ 0x...] ..." and "Last message repeated" arrive between them).
    const lines = probe.log.filter((l) => /^\s*["{}\]]/.test(l));
    const start = lines.findIndex((l) => l.trim() === '{');
    const end = lines.findLastIndex((l) => l.trim() === '}');
    const json = start >= 0 && end > start ? lines.slice(start, end + 1).join('\n') : '';
    if (!json.includes('"format"')) throw openError(probe.log, containerKnown);
    const summary = parseFfprobe(json);
    // ffmpeg opens a picture (PNG, JPEG, ...) under any name as a one-frame "video": it is not one.
    if (/_pipe$|^image2$/.test(summary.container)) {
      throw new VidkindError(
        'unsupported-container',
        `This file is a still image (${summary.container.replace(/_pipe$/, '')}), not a video.`,
      );
    }
    if (!summary.video) {
      const kinds = [...new Set(summary.streamTypes)];
      const what = kinds.length ? `only ${kinds.join(' and ')}` : 'no streams';
      throw new VidkindError('no-video-track', `This file has no video track (it has ${what}).`);
    }
    return new FfmpegVideo(ff, path, summary.video, unmount);
  } catch (error) {
    unmount();
    throw error;
  }
}

/** Turns ffprobe's complaint about a file into an error with a stable code. */
function openError(log: string[], containerKnown: boolean): VidkindError {
  const detail =
    log
      .filter((l) => l.trim() && !l.startsWith('Aborted'))
      .slice(-1)[0]
      ?.replace(/^.*?: /, '') ?? 'unreadable';
  // A file that starts like a video container but cannot be opened is damaged; anything else is not a video we know.
  if (containerKnown) return new VidkindError('corrupt-file', `The file is damaged or incomplete (${detail}).`);
  return new VidkindError('unsupported-container', `This file is not in a video format vidkind can read (${detail}).`);
}

class FfmpegVideo implements OpenedVideo {
  readonly info: VideoInfo;
  private closed = false;

  constructor(
    private readonly ff: FFmpeg,
    private readonly path: string,
    private readonly video: ProbedVideo,
    private readonly unmount: () => void,
  ) {
    this.info = {
      durationS: video.durationS,
      width: video.width,
      height: video.height,
      rotation: video.rotation,
      codec: video.codec,
      container: video.container,
      decoder: 'ffmpeg',
    };
    if (video.frameRate !== undefined) this.info.frameRate = video.frameRate;
    if (video.frameCount !== undefined) this.info.frameCount = video.frameCount;
  }

  async frames(
    timestamps: number[],
    maxSide: number,
    signal: AbortSignal,
    emit: (i: number, frame: RawFrame) => Promise<void>,
  ): Promise<FrameStats> {
    const size = cappedSize(this.video.width, this.video.height, maxSide);
    const frameS = this.video.frameRate ? 1 / this.video.frameRate : 0.04;
    // Outside the WORKERFS mount, which is read-only.
    const out = `${this.path.slice(0, this.path.lastIndexOf('/'))}.frame.rgba`;
    for (let i = 0; i < timestamps.length; i++) {
      const target = timestamps[i]!;
      const frame = await this.frameAt(target, frameS, size, out, signal);
      await emit(i, frame);
    }
    return { skippedPackets: 0, copiedFrames: 0 };
  }

  /** One frame at `target`: seek, and if the container's seek landed past the target, seek earlier. */
  private async frameAt(
    target: number,
    frameS: number,
    size: { width: number; height: number },
    out: string,
    signal: AbortSignal,
  ): Promise<RawFrame> {
    const bytes = size.width * size.height * 4;
    // Half a frame early, so a timestamp that is a real frame's time (the plan snaps to them) picks that frame.
    const absolute = this.video.startS + target - frameS / 2;
    for (const margin of seekMargins(target)) {
      const seek = Math.max(0, target - margin);
      const args = [
        '-hide_banner',
        // The log level is global in the wasm module and ffprobe's `-v error` outlives its run; showinfo needs info.
        '-loglevel',
        'info',
        ...(seek > 0 ? ['-noaccurate_seek', '-ss', seek.toFixed(6)] : []),
        '-copyts',
        '-i',
        this.path,
        '-map',
        '0:v:0',
        '-an',
        '-sn',
        '-frames:v',
        '1',
        '-fps_mode',
        'passthrough',
        '-vf',
        `showinfo@first,select=gte(t\\,${absolute.toFixed(6)}),scale=${size.width}:${size.height}:flags=area,showinfo@out`,
        '-pix_fmt',
        'rgba',
        '-f',
        'rawvideo',
        out,
      ];
      const result = await run(this.ff, 'exec', args, signal);
      const first = parseShowinfoTimes(result.log, 'showinfo@first')[0];
      const got = parseShowinfoTimes(result.log, 'showinfo@out')[0];
      const overshot = first !== undefined && seek > 0 && seekOvershot(first - this.video.startS, target, frameS);
      if (result.code === 0 && got !== undefined && !overshot) {
        const data = (await this.ff.readFile(out)) as Uint8Array;
        await this.ff.deleteFile(out).catch(() => undefined);
        if (data.byteLength !== bytes) throw new VidkindError('corrupt-file', `The frame at ${target.toFixed(2)} s could not be decoded.`);
        const rgba = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
        return { actualTimestamp: Math.round((got - this.video.startS) * 1e6) / 1e6, width: size.width, height: size.height, data: rgba };
      }
      if (first === undefined && seek === 0) {
        // Not one frame came out of the decoder, even from the start: a codec this build lacks, or damaged data.
        if (NO_DECODER.test(result.log.join('\n'))) {
          throw new VidkindError(
            'unsupported-codec',
            `The fallback decoder has no ${this.video.codec} decoder; this video cannot be read here.`,
          );
        }
        break;
      }
    }
    throw new VidkindError('corrupt-file', `No frame could be decoded at ${target.toFixed(2)} s; the video data is damaged.`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unmount();
  }
}
