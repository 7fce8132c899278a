/**
 * What each decode path (WebCodecs, ffmpeg.wasm) offers the worker: an opened video with its
 * facts, and a way to get RGBA frames at given timestamps.
 */
import type { ErrorInfo } from '../../src/core/errors';
import type { VideoInfo } from './api';

/** An RGBA frame as a path produces it. */
export interface RawFrame {
  actualTimestamp: number;
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface FrameOptions {
  /**
   * Key-frame snapping (src/core/decode-plan.ts keyFrameTolerance): a path may decode the latest
   * key frame in [t - keyFrameToleranceS, t] instead of t, and reports that frame's time as
   * actualTimestamp. 0 or absent: no snapping. Only the WebCodecs path snaps; ffmpeg.wasm (the
   * fallback, for formats WebCodecs cannot read) decodes the exact times.
   */
  keyFrameToleranceS?: number;
  /**
   * Leave out H.264 frames that nothing references on the way to a sample (disposable.ts); the
   * frames that come out are the same. Default true; false decodes every packet (for comparisons).
   * Only the WebCodecs path skips.
   */
  skipDisposable?: boolean;
  /**
   * How a decoded frame becomes RGBA on the WebCodecs path: 'copy' (default) converts it without a
   * canvas (webcodecs.ts copyRgba) wherever it needs no rotation, flip, aspect or size change, and
   * draws to a canvas otherwise; 'canvas' always draws (for comparisons).
   */
  rgba?: 'copy' | 'canvas';
}

/** What a path reports about a decode besides the frames. */
export interface FrameStats {
  /** Packets left out as disposable (always 0 on the ffmpeg.wasm path). */
  skippedPackets: number;
  /** Frames converted to RGBA without a canvas rather than drawn to one (0 on ffmpeg.wasm). */
  copiedFrames: number;
  /** ffmpeg runs on the ffmpeg.wasm path, retries included (0 on WebCodecs). */
  ffmpegRuns: number;
}

export interface OpenedVideo {
  info: VideoInfo;
  /**
   * Decodes one frame per timestamp (seconds from the first frame, ascending) at most `maxSide`
   * on its longest side, handing each to `emit` before decoding the next (so memory stays bounded).
   */
  frames(
    timestamps: number[],
    maxSide: number,
    signal: AbortSignal,
    emit: (i: number, frame: RawFrame) => Promise<void>,
    options?: FrameOptions,
  ): Promise<FrameStats>;
  /** Releases the file and decoders; safe to call twice. */
  close(): void;
}

/**
 * Thrown by the WebCodecs path when it cannot handle a file that ffmpeg.wasm may still read
 * (unknown container, codec WebCodecs lacks). `reason` is what to report if ffmpeg fails too.
 */
export class NeedsFallback extends Error {
  readonly reason: ErrorInfo;
  /** True when the container was recognised (so a later failure means a damaged file). */
  readonly containerKnown: boolean;
  constructor(reason: ErrorInfo, containerKnown: boolean) {
    super(reason.message);
    this.name = 'NeedsFallback';
    this.reason = reason;
    this.containerKnown = containerKnown;
  }
}
