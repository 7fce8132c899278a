/**
 * The decode worker: a user's File -> RGBA frames at the sampling plan's timestamps.
 * WebCodecs first (mediabunny demuxes); ffmpeg.wasm, loaded lazily, for whatever WebCodecs cannot
 * open or decode. API and contracts: workers/decode/api.ts.
 */
import * as Comlink from 'comlink';
import { DEFAULT_MAX_SIDE, decodePlans, keyFrameTolerance, looksLikeVideoContainer } from '../src/core/decode-plan';
import { toErrorInfo, VidkindError } from '../src/core/errors';
import type { DecodedFrame, DecodeOutput, DecodeProgress, DecodeRequest, DecodeWorkerApi, ProbeOptions, VideoInfo } from './decode/api';
import { NeedsFallback, type OpenedVideo } from './decode/source';
import { openWithWebCodecs } from './decode/webcodecs';

const jobs = new Map<string, AbortController>();

/** Opens a file on the best path that can read it; `fallback` says why WebCodecs declined, if it did. */
async function open(file: File, options: ProbeOptions, signal: AbortSignal): Promise<{ video: OpenedVideo; loadMs: number }> {
  if (file.size === 0) throw new VidkindError('corrupt-file', 'The file is empty (0 bytes).');
  let declined: NeedsFallback | null = null;
  if (options.forceDecoder !== 'ffmpeg') {
    try {
      return { video: await openWithWebCodecs(file), loadMs: 0 };
    } catch (error) {
      if (!(error instanceof NeedsFallback)) throw error;
      if (options.forceDecoder === 'webcodecs') throw new VidkindError(error.reason.code, error.reason.message);
      declined = error;
    }
  }
  return openFallback(file, signal, declined?.containerKnown ?? false, declined);
}

async function openFallback(file: File, signal: AbortSignal, containerKnown: boolean, declined: NeedsFallback | null) {
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  containerKnown ||= looksLikeVideoContainer(head);
  const ffmpeg = await import('./decode/ffmpeg');
  try {
    const video = await ffmpeg.openWithFfmpeg(file, signal, containerKnown);
    return { video, loadMs: ffmpeg.lastLoadMs };
  } catch (error) {
    // If ffmpeg.wasm itself could not start, WebCodecs' reason is the more useful one.
    if (declined && error instanceof VidkindError && error.code === 'internal') {
      throw new VidkindError(declined.reason.code, `${declined.reason.message} ${error.message}`);
    }
    throw error;
  }
}

/**
 * A decoder's own failure mid-stream (WebCodecs' EncodingError "Decoding error.", a demuxer's
 * RangeError on a damaged sample) means the video data is damaged: say so with `corrupt-file`
 * rather than `internal`. vidkind's own errors keep their codes.
 */
function asDamaged(error: unknown): unknown {
  if (error instanceof VidkindError || !(error instanceof Error)) return error;
  return new VidkindError('corrupt-file', `The video data is damaged and could not be decoded (${error.message}).`);
}

/** Errors cross the Comlink boundary as plain {code, message}; a fired signal always means 'cancelled'. */
function boundaryError(error: unknown, signal?: AbortSignal) {
  if (signal?.aborted) return { code: 'cancelled' as const, message: 'Cancelled.' };
  return toErrorInfo(error);
}

const api: DecodeWorkerApi = {
  async probe(file: File, options: ProbeOptions = {}): Promise<VideoInfo> {
    const signal = new AbortController().signal;
    try {
      const { video } = await open(file, options, signal);
      video.close();
      return video.info;
    } catch (error) {
      throw boundaryError(error);
    }
  },

  async decode(
    file: File,
    request: DecodeRequest,
    onProgress?: (p: DecodeProgress) => void,
    onFrame?: (f: DecodedFrame) => void | Promise<void>,
  ): Promise<DecodeOutput> {
    const controller = new AbortController();
    const jobId = request.jobId ?? crypto.randomUUID();
    jobs.set(jobId, controller);
    const { signal } = controller;
    const t0 = performance.now();
    let video: OpenedVideo | null = null;
    try {
      let opened = await open(file, request, signal);
      video = opened.video;
      const tOpen = performance.now();
      const maxSide = request.maxSide ?? DEFAULT_MAX_SIDE;
      let streamed = 0;
      const decodeAll = async (v: OpenedVideo, attempt: number) => {
        const { plans, shifts, unique } = decodePlans(v.info, request);
        const sampledBy = unique.map((t) => shifts.filter((_, k) => plans[k]!.unique.includes(t)));
        const frames: DecodedFrame[] = [];
        let done = 0;
        // Long videos: a key frame shortly before a sample time stands in for it (one decoded frame, not a GOP).
        const keyFrameToleranceS = keyFrameTolerance(v.info.durationS, request.frames);
        const stats = await v.frames(
          unique,
          maxSide,
          signal,
          async (index, raw) => {
            const frame: DecodedFrame = { index, timestamp: unique[index]!, attempt, shifts: sampledBy[index]!, ...raw };
            done++;
            if (onFrame) {
              streamed++;
              await onFrame(Comlink.transfer(frame, [frame.data.buffer]));
            } else frames.push(frame);
            if (onProgress) await onProgress({ done, total: unique.length });
          },
          { keyFrameToleranceS, skipDisposable: request.skipDisposable ?? true, rgba: request.rgba ?? 'copy' },
        );
        return { plans, shifts, unique, frames, ...stats };
      };
      let result: Awaited<ReturnType<typeof decodeAll>>;
      try {
        result = await decodeAll(video, 0);
      } catch (error) {
        // WebCodecs can accept a config and still fail on the bitstream, at the first frame or
        // partway through (Chromium does on some H.264 High 4:4:4 files that ffmpeg reads, and on
        // damaged data that ffmpeg conceals): ffmpeg.wasm decodes the file again. Once frames have
        // gone out, only the decoder's own failure is worth that (not one of ours, such as a video
        // that ends early); the frames then come again, as attempt 1, and replace the earlier ones.
        // Ours and final: a cancel, or, once frames are out, any error of vidkind's own.
        const final = error instanceof VidkindError && (streamed > 0 || error.code === 'cancelled');
        const retry =
          video.info.decoder === 'webcodecs' && request.forceDecoder !== 'webcodecs' && !signal.aborted && error instanceof Error && !final;
        if (!retry) throw asDamaged(error);
        video.close();
        opened = await openFallback(file, signal, true, null);
        video = opened.video;
        result = await decodeAll(video, 1).catch((e: unknown) => {
          throw asDamaged(e);
        });
      }
      const tEnd = performance.now();
      const output: DecodeOutput = {
        info: video.info,
        plans: result.plans,
        shifts: result.shifts,
        unique: result.unique,
        frames: result.frames,
        timingsMs: { probe: tOpen - t0 - opened.loadMs, load: opened.loadMs, frames: tEnd - tOpen, total: tEnd - t0 },
        skippedPackets: result.skippedPackets,
        copiedFrames: result.copiedFrames,
        ffmpegRuns: result.ffmpegRuns,
      };
      return Comlink.transfer(
        output,
        result.frames.map((f) => f.data.buffer as ArrayBuffer),
      );
    } catch (error) {
      throw boundaryError(error, signal);
    } finally {
      video?.close();
      jobs.delete(jobId);
    }
  },

  cancel(jobId: string): void {
    jobs.get(jobId)?.abort();
  },
};

Comlink.expose(api);
