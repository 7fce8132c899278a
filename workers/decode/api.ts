/**
 * The decode worker's contract: what `probe` and `decode` take and return. Imported by the worker,
 * by src/lib/decode-client.ts and by anyone who consumes frames (inference, UI, bench).
 */
import type { SamplePlan } from '../../src/core/sampling';

/** Which decoder ran: WebCodecs (demuxed by mediabunny) or the ffmpeg.wasm fallback. */
export type DecoderKind = 'webcodecs' | 'ffmpeg';

export interface VideoInfo {
  /** Length of the video track, from its first frame, in seconds. */
  durationS: number;
  /** Display size: after pixel aspect ratio and rotation. */
  width: number;
  height: number;
  /** Clockwise degrees applied to the stored frames for display (0, 90, 180, 270). */
  rotation: number;
  /** Only for constant-frame-rate video. */
  frameRate?: number;
  frameCount?: number;
  /** Short codec name, e.g. 'avc', 'vp9', 'hevc', 'mpeg4'. */
  codec: string;
  /** Short container name, e.g. 'mp4', 'webm', 'matroska', 'avi', 'mpegts'. */
  container: string;
  /** The path that reads (or would read) this file. */
  decoder: DecoderKind;
}

export interface ProbeOptions {
  /** Force one path (tests and diagnostics); by default WebCodecs, then ffmpeg.wasm. */
  forceDecoder?: DecoderKind;
}

export interface DecodeRequest extends ProbeOptions {
  /** Frames per plan (the head's T). */
  frames: number;
  /** Temporal TTA: shifts as fractions of the sample spacing, in [-0.5, 0.5]. Shift 0 is always plans[0]. */
  shifts?: number[];
  /**
   * Frames whose longest side exceeds this are downscaled in the decoder (default 1280), so that
   * 32 frames of a 4K film do not take a gigabyte. This only bounds memory: the resize to the
   * model's input size happens in src/core/preprocess.ts, the same code for training and serving.
   */
  maxSide?: number;
  /**
   * Leave out H.264 frames that no other frame references on the way to a sample time (the frames
   * that come out are the same; workers/decode/disposable.ts). Default true; false decodes every
   * packet, for comparisons.
   */
  skipDisposable?: boolean;
  /**
   * How frames become RGBA on the WebCodecs path: 'copy' (default) converts without a canvas where
   * no rotation, flip or resize is needed (VideoFrame.copyTo; BT.709 and BT.2020 video from its YUV
   * planes, src/core/yuv.ts), else draws to a canvas; 'canvas' always draws (for comparisons). On
   * BT.601 and untagged video the two agree; on BT.709 video only 'copy' gives BT.709's blue
   * (tests/e2e/decode.spec.ts).
   */
  rgba?: 'copy' | 'canvas';
  /** Names this decode for `cancel(jobId)`; the client sets it. */
  jobId?: string;
}

export interface DecodeProgress {
  done: number;
  total: number;
}

export interface DecodedFrame {
  /** Index of this frame's timestamp in DecodeOutput.unique. */
  index: number;
  /** The requested timestamp (seconds from the first frame). */
  timestamp: number;
  /**
   * The presentation time of the frame that was decoded for it. On videos of a minute or more the
   * WebCodecs path may take the key frame up to 1/8 of the sample spacing before `timestamp`
   * (src/core/decode-plan.ts keyFrameTolerance); this is then that key frame's time.
   */
  actualTimestamp: number;
  /**
   * 0; 1 for a frame sent again by ffmpeg.wasm after WebCodecs failed partway through the file.
   * A frame of attempt 1 replaces the frame of attempt 0 at the same timestamp; its `index` points
   * into the final DecodeOutput.unique.
   */
  attempt: number;
  /**
   * The shifts (DecodeOutput.shifts) whose plans sample this timestamp: which temporal TTA views
   * need this frame, from the plans of the attempt that decoded it.
   */
  shifts: number[];
  width: number;
  height: number;
  /** RGBA, row-major, no padding; transferred across the worker boundary, not copied. */
  data: Uint8ClampedArray;
}

export interface DecodeTimings {
  /** Opening the file and reading its headers. */
  probe: number;
  /** Loading ffmpeg.wasm (0 when the WebCodecs path ran or the core was already loaded). */
  load: number;
  /** Seeking, decoding and converting the frames. */
  frames: number;
  total: number;
}

export interface DecodeOutput {
  info: VideoInfo;
  /** One plan per shift; plans[0] is shift 0. */
  plans: SamplePlan[];
  /** The shift of each plan. */
  shifts: number[];
  /** Every distinct timestamp of every plan, ascending; DecodedFrame.index points here. */
  unique: number[];
  /** One frame per entry of `unique`, or empty when frames were streamed through onFrame. */
  frames: DecodedFrame[];
  timingsMs: DecodeTimings;
  /** Packets not decoded because no frame needed them (disposable H.264 frames); 0 on ffmpeg.wasm. */
  skippedPackets: number;
  /** Frames converted to RGBA without a canvas (DecodeRequest.rgba); 0 on ffmpeg.wasm. */
  copiedFrames: number;
  /** ffmpeg runs the frames took on ffmpeg.wasm (fewer than frames where one run kept several); 0 on WebCodecs. */
  ffmpegRuns: number;
}

/**
 * The methods the worker exposes through Comlink. Errors reject with a plain `{code, message}`
 * object (src/core/errors.ts ErrorInfo).
 *
 * Cancellation: Comlink cannot pass an AbortSignal, so a decode carries a `jobId` and `cancel(jobId)`
 * stops it; the decode then rejects with code 'cancelled'. The client maps an AbortSignal onto this.
 */
export interface DecodeWorkerApi {
  /** Reads the headers of a file: its size, length, codec and which path will decode it. */
  probe(file: File, options?: ProbeOptions): Promise<VideoInfo>;
  /**
   * Decodes the frames at the sampling plan's timestamps. With `onFrame`, each frame is handed
   * over as soon as it is ready (and `frames` in the output is empty), keeping memory bounded.
   */
  decode(
    file: File,
    request: DecodeRequest,
    onProgress?: (p: DecodeProgress) => void,
    onFrame?: (f: DecodedFrame) => void | Promise<void>,
  ): Promise<DecodeOutput>;
  /** Stops the decode with this jobId (no-op if it already finished). */
  cancel(jobId: string): void;
}
