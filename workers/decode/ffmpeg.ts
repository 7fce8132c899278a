/**
 * The fallback path: ffmpeg.wasm (single-thread core, served from the site's origin and loaded
 * only when WebCodecs cannot open a file) for AVI, FLV, 3GP, MPEG-PS, HEVC, MPEG-2/4 Part 2, ...
 *
 * A file up to MEMORY_COPY_BYTES is copied into ffmpeg's in-memory file system; a larger one is
 * mounted with WORKERFS (read in slices on demand, never copied whole into memory), which was 0.7 s
 * slower on a 10 s 7 MB AVI here. Each `ffmpeg` run seeks to the key frame before its first
 * sample, decodes forward, keeps the frame at each of its sample times, scales them to the memory
 * cap (the model-size resize is preprocess.ts's job) and writes them as raw RGBA. Short videos take
 * a few runs that read the stream through once (several samples each); long ones one run per
 * sample, as node-trainer's native decoder does (core/decode-plan.ts passIsCheaper). Containers
 * whose seeking is imprecise are handled by seeking earlier and retrying (core/decode-plan.ts
 * seekMargins).
 */
import { FFmpeg, FFFSType } from '@ffmpeg/ffmpeg';
import coreURL from '@ffmpeg/core?url';
import wasmURL from '@ffmpeg/core/wasm?url';
import { cappedSize, passIsCheaper, seekMargins, seekOvershot, selectFirstFramesAtOrAfter } from '../../src/core/decode-plan';
import { abortable, VidkindError, throwIfCancelled } from '../../src/core/errors';
import { ffprobeComplaint, parseFfprobe, parseShowinfoTimes, type ProbedVideo } from '../../src/core/ffprobe';
import type { VideoInfo } from './api';
import { type FrameStats, type OpenedVideo, type RawFrame } from './source';

/**
 * The most frame data one ffmpeg run writes before the worker reads it back (ffmpeg.wasm keeps its
 * output in memory): 17 samples of 1280x720.
 */
const PASS_RUN_BYTES = 64 * 1024 * 1024;

/** Files up to this size are copied into ffmpeg.wasm's memory rather than read through WORKERFS. */
const MEMORY_COPY_BYTES = 64 * 1024 * 1024;

/**
 * Every run writes its frames into one scratch file, in place (`-truncate 0`): a file that ffmpeg
 * grows as it writes is copied each time it grows by 1/8, which cost 2.4 s for 16 frames of 720p
 * here. The file is made once at the largest size a run has needed, and kept while the core is loaded.
 */
const SCRATCH = '/vidkind-frames.rgba';
let scratchBytes = 0;

/** Runs one `run` at a time (exec, then reading the scratch file), whoever asks. */
let lane: Promise<unknown> = Promise.resolve();
function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const result = lane.then(work, work);
  lane = result.catch(() => undefined);
  return result;
}

async function scratchFile(ff: FFmpeg, bytes: number): Promise<string> {
  if (bytes > scratchBytes) {
    await ff.writeFile(SCRATCH, new Uint8Array(bytes));
    scratchBytes = bytes;
  }
  return SCRATCH;
}

let instance: Promise<FFmpeg> | null = null;
/** Counts loads: a mounted file whose generation is older is mounted again on the current core. */
let generation = 0;
/** Files opened on the current core (see FILES_PER_CORE). */
let filesOnCore = 0;
let logSink: string[] | null = null;
let mountCount = 0;

/**
 * ffmpeg.wasm 0.12's core does not give back all it uses from one command to the next (its wasm
 * stack and heap: ffmpegwasm/ffmpeg.wasm#563, #704, #820, #943): here, after some 25-50 files it
 * trapped ("RuntimeError: memory access out of bounds") or stalled, and stayed broken for every
 * later file. So a fresh core is loaded every FILES_PER_CORE files (about 0.3 s from the browser's
 * cache), and once more for a command that traps anyway (`call`).
 */
const FILES_PER_CORE = 8;

/** What ffmpeg logs when it cannot decode a codec (ffmpeg.wasm's core has no AV1 software decoder). */
const NO_DECODER =
  /Decoder \(codec [^)]*\) not found|doesn't support hardware accelerated|Failed to get pixel format|Unsupported codec|no decoder/i;

/** Milliseconds the last `openWithFfmpeg` spent loading the core (0 when it was already loaded). */
export let lastLoadMs = 0;

/** The loaded ffmpeg.wasm, loading it on first use. */
async function ffmpegCore(): Promise<FFmpeg> {
  if (instance) return instance;
  const t0 = performance.now();
  const ff = new FFmpeg();
  scratchBytes = 0;
  filesOnCore = 0;
  generation++;
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

/** Kills ffmpeg.wasm (mid-run too: the only way to stop a running command); the next use loads a fresh one. */
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

/** A wasm trap inside the core (not a cancellation, not one of our errors): the core is broken from here on. */
const isTrap = (error: unknown) =>
  error instanceof Error &&
  !(error instanceof VidkindError) &&
  /RuntimeError|out of bounds|unreachable/i.test(`${error.name} ${error.message}`);

/**
 * A user's file in ffmpeg.wasm's file system, at the same path on whichever core is loaded: a file
 * of an older core (recycled, or killed by a cancel or a trap) is put on the current one first.
 */
class MountedFile {
  readonly path: string;
  private readonly dir: string;
  private readonly inMemory: boolean;
  private mountedOn = 0;
  private mounted: FFmpeg | null = null;

  constructor(private readonly file: File) {
    this.dir = `/input${++mountCount}`;
    // Keep the extension: ffmpeg uses it as a hint for formats without a signature (raw streams).
    const ext = /\.[a-z0-9]{1,5}$/i.exec(file.name)?.[0].toLowerCase() ?? '';
    this.path = `${this.dir}/video${ext}`;
    this.inMemory = file.size <= MEMORY_COPY_BYTES;
  }

  /** The current core, with this file on it. */
  async core(signal: AbortSignal): Promise<FFmpeg> {
    const ff = await abortable(ffmpegCore(), signal);
    if (this.mountedOn !== generation) {
      this.mounted = null;
      await ff.createDir(this.dir);
      const name = this.path.slice(this.dir.length + 1);
      if (this.inMemory) await ff.writeFile(this.path, new Uint8Array(await abortable(this.file.arrayBuffer(), signal)));
      else await ff.mount(FFFSType.WORKERFS, { blobs: [{ name, data: this.file }] }, this.dir);
      this.mountedOn = generation;
      this.mounted = ff;
    }
    return ff;
  }

  /**
   * Runs one command on the file (one at a time, whoever asks: `exclusive`), with `then` reading
   * its output on the same core. A command that traps runs once more on a fresh core.
   */
  call<T>(
    kind: 'exec' | 'ffprobe',
    args: string[],
    signal: AbortSignal,
    then: (ff: FFmpeg, result: { code: number; log: string[] }) => Promise<T>,
    before?: (ff: FFmpeg) => Promise<void>,
  ): Promise<T> {
    return exclusive(async () => {
      for (let attempt = 0; ; attempt++) {
        const ff = await this.core(signal);
        try {
          await before?.(ff);
          return await then(ff, await run(ff, kind, args, signal));
        } catch (error) {
          if (!isTrap(error) || signal.aborted) throw error;
          terminate();
          if (attempt > 0)
            throw new VidkindError('internal', `The fallback decoder (ffmpeg.wasm) broke down twice on this file (${String(error)}).`);
        }
      }
    });
  }

  close(): void {
    const ff = this.mounted;
    this.mounted = null;
    if (!ff || this.mountedOn !== generation) return;
    void (this.inMemory ? ff.deleteFile(this.path) : ff.unmount(this.dir)).then(() => ff.deleteDir(this.dir)).catch(() => undefined);
  }
}

/** Opens a file with ffmpeg.wasm: mounts it, probes it, and returns a video ready to sample. */
export async function openWithFfmpeg(file: File, signal: AbortSignal, containerKnown: boolean): Promise<OpenedVideo> {
  lastLoadMs = 0;
  // Between commands (none runs inside `exclusive`), so no other file's command is cut short.
  await exclusive(async () => {
    if (filesOnCore >= FILES_PER_CORE) terminate();
    await abortable(ffmpegCore(), signal);
    filesOnCore++;
  });
  const mounted = new MountedFile(file);
  try {
    // ffprobe's JSON arrives on stdout, i.e. in the log (with `-v error`, nothing else is there unless it
    // failed). Its exit code is not used: the wasm build reports -1 even after a good run.
    const probe = await mounted.call(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', mounted.path],
      signal,
      async (_ff, result) => result,
    );
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
    return new FfmpegVideo(mounted, summary.video);
  } catch (error) {
    mounted.close();
    throw error;
  }
}

/** Turns ffprobe's complaint about a file into an error with a stable code. */
function openError(log: string[], containerKnown: boolean): VidkindError {
  const detail = ffprobeComplaint(log);
  // A file that starts like a video container but cannot be opened is damaged; anything else is not a video we know.
  if (containerKnown) return new VidkindError('corrupt-file', `The file is damaged or incomplete (${detail}).`);
  return new VidkindError('unsupported-container', `This file is not in a video format vidkind can read (${detail}).`);
}

class FfmpegVideo implements OpenedVideo {
  readonly info: VideoInfo;
  private closed = false;
  /** ffmpeg runs so far (FrameStats.ffmpegRuns). */
  private runs = 0;

  constructor(
    private readonly file: MountedFile,
    private readonly video: ProbedVideo,
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
    // One pass (short videos, dense plans), as native ffmpeg's `pass`: runs that decode from the
    // start and keep several samples each, at most PASS_RUN_BYTES of frames (ffmpeg.wasm writes them
    // to its in-memory file system), so a plan of more frames takes several runs. They do not seek:
    // after a seek ffmpeg can stamp frames a few frames off (python3-imageio's cockatoo.mp4, whose key
    // frames are I frames with B frames around them: native ffmpeg too), and `pass` never seeks.
    // Otherwise (long videos) one run per sample, seeking to the key frame before it, as native `seek`.
    const pass = passIsCheaper(this.video, timestamps.length);
    const perRun = pass ? Math.max(1, Math.floor(PASS_RUN_BYTES / (size.width * size.height * 4))) : 1;
    // A copy of the last frame sent (sending transfers its buffer), for samples past the end.
    let previous: RawFrame | undefined;
    for (let first = 0; first < timestamps.length;) {
      const targets = timestamps.slice(first, first + perRun);
      const frames = await this.run(targets, frameS, size, signal, pass);
      for (const [k, frame] of frames.entries()) {
        throwIfCancelled(signal);
        // A sample the run did not reach (past the last frame it decoded) gets a run of its own,
        // with the retries and errors of a single seek.
        let f = frame ?? (await this.run([targets[k]!], frameS, size, signal))[0];
        // Past the video's last frame (a container's duration can include a longer audio track):
        // the last frame before it, as native ffmpeg gives training and `vidkind classify`.
        if (!f) {
          if (!previous) throw new VidkindError('corrupt-file', `No frame could be decoded at ${targets[k]!.toFixed(2)} s.`);
          f = { ...previous, data: previous.data.slice() };
        }
        previous = { ...f, data: f.data.slice() };
        await emit(first + k, f);
      }
      first += targets.length;
    }
    return { skippedPackets: 0, copiedFrames: 0, ffmpegRuns: this.runs };
  }

  /**
   * The frames at `targets` (ascending) from one ffmpeg run: seek to the key frame before the first
   * target, decode forward, and keep for each target the first frame at or after it. If the
   * container's seek landed past the first target, seek earlier. A target that no frame reached is
   * undefined: a later one, or the first where the stream ends before it. It throws when no frame
   * could be decoded there at all. `fromStart`: decode from the start of the stream instead.
   */
  private async run(
    targets: number[],
    frameS: number,
    size: { width: number; height: number },
    signal: AbortSignal,
    fromStart = false,
  ): Promise<Array<RawFrame | undefined>> {
    const bytes = size.width * size.height * 4;
    // Half a frame early, so a timestamp that is a real frame's time (the plan snaps to them) picks that frame.
    const absolute = targets.map((t) => this.video.startS + t - frameS / 2);
    const target = targets[0]!;
    for (const margin of fromStart ? [target] : seekMargins(target)) {
      const seek = Math.max(0, target - margin);
      const args = [
        '-hide_banner',
        // The log level is global in the wasm module and ffprobe's `-v error` outlives its run; showinfo needs info.
        '-loglevel',
        'info',
        ...(seek > 0 ? ['-noaccurate_seek', '-ss', seek.toFixed(6)] : []),
        '-copyts',
        '-i',
        this.file.path,
        '-map',
        '0:v:0',
        '-an',
        '-sn',
        '-frames:v',
        String(targets.length),
        '-fps_mode',
        'passthrough',
        '-vf',
        `showinfo@first=checksum=0,${selectFirstFramesAtOrAfter(absolute)},scale=${size.width}:${size.height}:flags=area,showinfo@out=checksum=0`,
        '-pix_fmt',
        'rgba',
        '-f',
        'rawvideo',
        // Write into the scratch file as it is (see SCRATCH); only the frames this run logged are read.
        '-truncate',
        '0',
        SCRATCH,
      ];
      this.runs++;
      // The frames are read back on the core that wrote them, before any other command runs.
      const { result, got, data } = await this.file.call(
        'exec',
        args,
        signal,
        async (ff, result) => {
          const got = parseShowinfoTimes(result.log, 'showinfo@out');
          return { result, got, data: result.code === 0 && got.length > 0 ? ((await ff.readFile(SCRATCH)) as Uint8Array) : null };
        },
        async (ff) => void (await scratchFile(ff, targets.length * bytes)),
      );
      const first = parseShowinfoTimes(result.log, 'showinfo@first')[0];
      const overshot = first !== undefined && seek > 0 && seekOvershot(first - this.video.startS, target, frameS);
      if (data && got.length > 0 && !overshot) {
        if (got.length > targets.length || data.byteLength < got.length * bytes)
          throw new VidkindError('corrupt-file', `The frame at ${target.toFixed(2)} s could not be decoded.`);
        const frames = absolute.map((a) => {
          const j = got.findIndex((t) => t >= a);
          if (j < 0) return undefined;
          // Each frame gets its own buffer: frames are transferred to the inference worker one by one.
          const rgba = new Uint8ClampedArray(data.subarray(j * bytes, (j + 1) * bytes));
          const actualTimestamp = Math.round((got[j]! - this.video.startS) * 1e6) / 1e6;
          return { actualTimestamp, width: size.width, height: size.height, data: rgba };
        });
        if (frames[0] !== undefined) return frames;
      }
      // Frames from before the target to the end of the stream, none at or after it: the video
      // ends before this time (its last frame is then the one to use; see frames()).
      if (result.code === 0 && first !== undefined && !overshot && got.length === 0) return targets.map(() => undefined);
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
    this.file.close();
  }
}
