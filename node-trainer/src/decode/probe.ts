/** What ffprobe tells about a file's video stream: enough to plan the samples and size the frames. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { DEFAULT_MAX_SIDE, cappedSize, looksLikeVideoContainer, rotatedSize } from '../../../src/core/decode-plan.ts';
import { VidkindError } from '../../../src/core/errors.ts';
import { runChild } from './child.ts';
import { ffmpegError } from './ffmpeg-errors.ts';

export interface VideoInfo {
  codec: string;
  /** Coded size, before rotation. */
  codedWidth: number;
  codedHeight: number;
  /** Display rotation in degrees (0, 90, 180, 270), from the display matrix or the rotate tag. */
  rotation: number;
  durationS: number;
  /** Container start time in seconds (MPEG-TS often starts at 1.4 s); plan times are relative to it. */
  startS: number;
  /** Set only for constant-frame-rate streams, where snapping timestamps to frames is exact. */
  frameRate?: number;
  frameCount?: number;
}

interface ProbeJson {
  streams?: Array<{
    codec_name?: string;
    width?: number;
    height?: number;
    r_frame_rate?: string;
    avg_frame_rate?: string;
    duration?: string;
    nb_frames?: string;
    tags?: { rotate?: string };
    side_data_list?: Array<{ rotation?: number }>;
    disposition?: { attached_pic?: number };
  }>;
  format?: { duration?: string; start_time?: string };
}

function rate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const [n, d] = s.split('/').map(Number);
  const r = d ? n! / d : n!;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

/** Probes `file`; broken, empty or audio-only files become error values with stable codes. */
export async function probeVideo(file: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<VideoInfo> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new VidkindError('file-unreadable', `${file} cannot be read (${(e as Error).message}).`);
  }
  if (size === 0) throw new VidkindError('corrupt-file', `${file} is empty.`);
  const args = [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation:format=duration,start_time',
    '-of',
    'json',
    file,
  ];
  const res = await runChild('ffprobe', args, { timeoutMs: opts.timeoutMs ?? 20_000, signal: opts.signal, stage: 'probing' });
  if (res.code !== 0) {
    // As the browser decoder does: bytes that are no known container are another kind of file, not a damaged video.
    if (!looksLikeVideoContainer(fileHead(file)))
      throw new VidkindError('unsupported-container', `${file} is not in a video format vidkind can read.`);
    throw ffmpegError(file, res.stderr);
  }
  const json = JSON.parse(res.stdout.toString('utf8') || '{}') as ProbeJson;
  // Cover art is a one-picture "video" stream; it is not the video.
  const s = (json.streams ?? []).find((st) => !st.disposition?.attached_pic);
  if (!s) throw new VidkindError('no-video-track', `${file} has no video track.`);
  if (!s.codec_name || s.codec_name === 'none' || !s.width || !s.height)
    throw new VidkindError('unsupported-codec', `${file} has a video track this ffmpeg cannot identify or decode.`);
  const sideRotation = s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const rotation = (((Math.round(sideRotation ?? Number(s.tags?.rotate ?? 0)) % 360) + 360) % 360) as number;
  const durationS = Number(s.duration ?? json.format?.duration ?? NaN);
  const frameCount = s.nb_frames ? Number(s.nb_frames) : undefined;
  const r = rate(s.r_frame_rate);
  const avg = rate(s.avg_frame_rate);
  // Only a constant frame rate (r == avg) lets the plan snap to real frame times.
  const cfr = r !== undefined && avg !== undefined && Math.abs(r - avg) / r < 1e-3;
  if (!Number.isFinite(durationS) || durationS < 0) throw new VidkindError('corrupt-file', `${file} has no readable duration.`);
  if (frameCount === 0) throw new VidkindError('too-short', `${file} has a video track without frames.`);
  return {
    codec: s.codec_name,
    codedWidth: s.width,
    codedHeight: s.height,
    rotation,
    durationS,
    startS: Number.isFinite(Number(json.format?.start_time)) ? Number(json.format?.start_time) : 0,
    frameRate: cfr ? r : undefined,
    frameCount: frameCount && Number.isInteger(frameCount) && frameCount > 0 ? frameCount : undefined,
  };
}

/** The first bytes of a file (enough for looksLikeVideoContainer). */
function fileHead(file: string): Uint8Array {
  const buf = new Uint8Array(1024);
  const fd = openSync(file, 'r');
  try {
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** Longest side of decoded frames; the browser's decoder caps the same way (model-size resize is core's). */
export const MAX_FRAME_SIDE = DEFAULT_MAX_SIDE;

/** Display size after rotation, capped on the longest side (src/core/decode-plan, as in the browser). */
export function outputSize(info: VideoInfo, maxSide = MAX_FRAME_SIDE): { width: number; height: number } {
  const r = rotatedSize(info.codedWidth, info.codedHeight, info.rotation);
  return cappedSize(r.width, r.height, maxSide);
}
