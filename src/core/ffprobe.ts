/**
 * Reads `ffprobe -print_format json -show_format -show_streams` output into the facts a decoder
 * needs. Shared by ffmpeg.wasm in the browser and native ffprobe in node-trainer (same JSON).
 */
import { rotatedSize } from './decode-plan';

/** The first video stream of a file, as ffprobe describes it. */
export interface ProbedVideo {
  /** Length of the video stream in seconds, from its first frame. */
  durationS: number;
  /** Presentation time of the first frame (MPEG-TS often starts at 1.4 s). */
  startS: number;
  /** Display size: pixel aspect ratio and rotation applied. */
  width: number;
  height: number;
  /** Clockwise degrees the stored frames must be turned for display: 0, 90, 180 or 270. */
  rotation: number;
  /** Only when the stream is constant-frame-rate. */
  frameRate?: number;
  frameCount?: number;
  codec: string;
  container: string;
  pixelFormat?: string;
}

export interface ProbeSummary {
  video: ProbedVideo | null;
  /** Kinds of the other streams (e.g. 'audio'), so "no video track" can say what is there. */
  streamTypes: string[];
  container: string;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  sample_aspect_ratio?: string;
  pix_fmt?: string;
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number | string }[];
}

interface FfprobeJson {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

/** Parses a rational like "30000/1001"; null when it is 0, missing or malformed. */
export function parseRational(text: string | undefined): number | null {
  if (!text) return null;
  const [n, d = '1'] = text.split(/[/:]/);
  const value = Number(n) / Number(d);
  return Number.isFinite(value) && value > 0 ? value : null;
}

function finite(text: string | undefined): number | null {
  if (text === undefined) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** Maps ffmpeg's demuxer names ("mov,mp4,m4a,3gp,3g2,mj2") to one short container name. */
export function containerName(formatName: string | undefined): string {
  const first = (formatName ?? 'unknown').split(',')[0]!;
  const names: Record<string, string> = { mov: 'mp4', matroska: 'matroska', mpegts: 'mpegts', mpeg: 'mpeg-ps' };
  return names[first] ?? first;
}

/** Summarises ffprobe's JSON; throws a RangeError when it is not ffprobe JSON. */
export function parseFfprobe(text: string): ProbeSummary {
  let json: FfprobeJson;
  try {
    json = JSON.parse(text) as FfprobeJson;
  } catch (error) {
    throw new RangeError('ffprobe output is not JSON', { cause: error });
  }
  const streams = json.streams ?? [];
  const container = containerName(json.format?.format_name);
  const stream = streams.find((s) => s.codec_type === 'video' && !(s.tags?.['mimetype'] ?? '').startsWith('image/'));
  const streamTypes = streams.map((s) => s.codec_type ?? 'unknown');
  if (!stream || !stream.width || !stream.height) return { video: null, streamTypes, container };

  // ffprobe reports the display matrix rotation counter-clockwise; vidkind (like mediabunny) uses clockwise.
  const matrix = stream.side_data_list?.find((d) => d.rotation !== undefined);
  const ccw = matrix ? Number(matrix.rotation) : -(finite(stream.tags?.['rotate']) ?? 0);
  const rotation = ((((-Math.round(ccw / 90) * 90) % 360) + 360) % 360) as number;

  const sar = parseRational(stream.sample_aspect_ratio);
  const squareWidth = sar && Math.abs(sar - 1) > 1e-6 ? Math.round(stream.width * sar) : stream.width;
  const display = rotatedSize(squareWidth, stream.height, rotation);

  const startS = finite(stream.start_time) ?? finite(json.format?.start_time) ?? 0;
  const streamDuration = finite(stream.duration);
  const formatDuration = finite(json.format?.duration);
  // A format duration counts from the file's start; the video may start later than the audio.
  const durationS = Math.max(
    0,
    streamDuration ?? (formatDuration !== null ? formatDuration - (startS - (finite(json.format?.start_time) ?? 0)) : 0),
  );

  const avg = parseRational(stream.avg_frame_rate);
  const real = parseRational(stream.r_frame_rate);
  const constant = avg !== null && real !== null && Math.abs(avg - real) / real < 1e-3;
  const frameCount = finite(stream.nb_frames);
  return {
    container,
    streamTypes,
    video: {
      durationS,
      startS,
      width: display.width,
      height: display.height,
      rotation,
      frameRate: constant ? real : undefined,
      frameCount: frameCount !== null && frameCount >= 1 ? frameCount : undefined,
      codec: stream.codec_name ?? 'unknown',
      container,
      pixelFormat: stream.pix_fmt,
    },
  };
}

/** The presentation times, in order, that ffmpeg's `showinfo` filter logged (one per frame). */
export function parseShowinfoTimes(lines: string[], filterName = 'showinfo'): number[] {
  const times: number[] = [];
  for (const line of lines) {
    if (!line.includes(filterName)) continue;
    const m = /pts_time:\s*(-?[0-9.]+(?:e-?\d+)?)/.exec(line);
    if (m) times.push(Number(m[1]));
  }
  return times;
}

/**
 * What ffprobe said about a file it could not open, for an error message: its last complaint
 * without the "path: " or "[demuxer @ 0x...] " prefix. stdout and stderr share ffmpeg.wasm's log,
 * so the empty JSON that `-print_format json` still prints ("{", "}") and the runtime's "Aborted"
 * are skipped.
 */
export function ffprobeComplaint(log: readonly string[]): string {
  const said = log.filter((l) => l.trim() && !/^\s*[{}[\],]+\s*$/.test(l) && !/^\s*"/.test(l) && !l.startsWith('Aborted'));
  const last = said
    .at(-1)
    ?.replace(/^\[[^\]]* @ [^\]]*\] /, '')
    .replace(/^.*?: /, '')
    .trim();
  return last || 'unreadable';
}
