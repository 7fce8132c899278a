/**
 * Decode-stage diagnostics: runs the real decode worker on a file and reports what came out
 * (plan, decoder path, frame sizes and times, a checksum and a coarse thumbnail of each frame),
 * as plain data that a person in the console or an e2e test can read.
 */
import { toErrorInfo, type ErrorInfo } from '../core/errors';
import { createDecodeClient, type DecodeClient, type DecodedFrame, type DecodeRequest, type VideoInfo } from '../lib/decode-client';

let client: DecodeClient | null = null;
function decodeClient(): DecodeClient {
  client ??= createDecodeClient();
  return client;
}

export interface FrameSummary {
  index: number;
  timestamp: number;
  actualTimestamp: number;
  /** DecodedFrame.attempt: 1 where ffmpeg.wasm decoded the file again after WebCodecs failed partway. */
  attempt: number;
  /** DecodedFrame.shifts: the shifts whose plans sample this frame. */
  shifts: number[];
  width: number;
  height: number;
  /** FNV-1a over the RGBA bytes: equal frames, equal checksums. */
  checksum: string;
  /** Mean luma (0-255) of a 4x4 grid over the frame, row by row: for loose comparisons across decoders. */
  grid: number[];
  /** Mean R, G, B (0-255) of the same 4x4 grid, three values per cell: colour comparisons across decoders. */
  rgb: number[];
}

export interface DecodeSummary {
  info: VideoInfo;
  decoder: VideoInfo['decoder'];
  /** The shift-0 plan's timestamps and the union of unique timestamps that were decoded. */
  timestamps: number[];
  unique: number[];
  plans: number[][];
  /** The frames of the decode's last attempt (they replace an earlier attempt's), by index. */
  frames: FrameSummary[];
  /** Frames that came out of an attempt that failed partway (WebCodecs) and were sent again. */
  replacedFrames: number;
  progress: { done: number; total: number }[];
  timingsMs: Record<string, number>;
  /** Disposable H.264 packets left out (workers/decode/disposable.ts). */
  skippedPackets: number;
  /** Frames converted without a canvas rather than drawn to one (workers/decode/webcodecs.ts copyRgba). */
  copiedFrames: number;
  /** ffmpeg runs on the ffmpeg.wasm path (workers/decode/ffmpeg.ts), 0 on WebCodecs. */
  ffmpegRuns: number;
}

export type Outcome<T> = T | { error: ErrorInfo };

/** Fetches a URL into a File (e.g. a fixture served to the page). */
export async function fileFromUrl(url: string, name = url.split('/').pop() ?? 'video'): Promise<File> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new File([await response.blob()], name);
}

/** Probes a file; errors come back as `{error: {code, message}}`. */
export async function probe(file: File, request: Pick<DecodeRequest, 'forceDecoder'> = {}): Promise<Outcome<VideoInfo>> {
  try {
    return await decodeClient().probe(file, request);
  } catch (error) {
    return { error: toErrorInfo(error) };
  }
}

/** Decodes a file (frames streamed, as the app does) and summarises every frame. */
export async function decodeSummary(file: File, request: Omit<DecodeRequest, 'jobId'>): Promise<Outcome<DecodeSummary>> {
  const frames: FrameSummary[] = [];
  const progress: { done: number; total: number }[] = [];
  try {
    const out = await decodeClient().decode(file, request, {
      onFrame: (f) => void frames.push(summarise(f)),
      onProgress: (p) => void progress.push(p),
    });
    const last = Math.max(0, ...frames.map((f) => f.attempt));
    const kept = frames.filter((f) => f.attempt === last).sort((a, b) => a.index - b.index);
    return {
      info: out.info,
      decoder: out.info.decoder,
      timestamps: out.plans[0]!.timestamps,
      unique: out.unique,
      plans: out.plans.map((p) => p.timestamps),
      frames: kept,
      replacedFrames: frames.length - kept.length,
      progress,
      timingsMs: { ...out.timingsMs },
      skippedPackets: out.skippedPackets,
      copiedFrames: out.copiedFrames,
      ffmpegRuns: out.ffmpegRuns,
    };
  } catch (error) {
    return { error: toErrorInfo(error) };
  }
}

/**
 * Starts a decode and aborts it once `afterFrames` frames have arrived; reports the error it ended
 * with and how long the abort took to take effect.
 */
export async function decodeAndCancel(
  file: File,
  request: Omit<DecodeRequest, 'jobId'>,
  afterFrames = 1,
): Promise<{ error: ErrorInfo | null; framesBeforeAbort: number; abortToRejectMs: number | null }> {
  const controller = new AbortController();
  let received = 0;
  let abortedAt: number | null = null;
  try {
    await decodeClient().decode(file, request, {
      signal: controller.signal,
      onFrame: () => {
        received++;
        if (received >= afterFrames && abortedAt === null) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    return { error: null, framesBeforeAbort: received, abortToRejectMs: null };
  } catch (error) {
    return {
      error: toErrorInfo(error),
      framesBeforeAbort: received,
      abortToRejectMs: abortedAt === null ? null : performance.now() - abortedAt,
    };
  }
}

function summarise(f: DecodedFrame): FrameSummary {
  const means = cellMeans(f.data, f.width, f.height, 4);
  return {
    index: f.index,
    timestamp: f.timestamp,
    actualTimestamp: f.actualTimestamp,
    attempt: f.attempt,
    shifts: f.shifts,
    width: f.width,
    height: f.height,
    checksum: fnv1a(f.data),
    // Luma is linear in R, G, B, so the mean of the cell's luma is the luma of its mean colour.
    grid: Array.from({ length: 16 }, (_, i) => round1(0.299 * means[i * 3]! + 0.587 * means[i * 3 + 1]! + 0.114 * means[i * 3 + 2]!)),
    rgb: Array.from(means, round1),
  };
}

function fnv1a(bytes: Uint8ClampedArray): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Mean R, G, B of each cell of a cells x cells grid over an RGBA frame, row by row, three values per cell. */
function cellMeans(data: Uint8ClampedArray, width: number, height: number, cells: number): Float64Array {
  const sums = new Float64Array(cells * cells * 3);
  const counts = new Float64Array(cells * cells);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(cells - 1, Math.floor((y * cells) / height));
    for (let x = 0; x < width; x++) {
      const cell = cy * cells + Math.min(cells - 1, Math.floor((x * cells) / width));
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) sums[cell * 3 + c]! += data[p + c]!;
      counts[cell]! += 1;
    }
  }
  return sums.map((s, i) => s / counts[Math.floor(i / 3)]!);
}

const round1 = (v: number) => Math.round(v * 10) / 10;
