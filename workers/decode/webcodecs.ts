/**
 * The fast path: mediabunny demuxes (MP4/MOV, WebM/MKV, MPEG-TS) and drives WebCodecs. For each
 * sampled timestamp it seeks to the key frame before it and decodes forward to it, so the cost
 * follows the number of samples, not the length of the video. On the way, H.264 frames that no
 * other frame references are left out unless they are wanted themselves (disposable.ts). On long
 * videos a sample whose key frame lies within the snapping tolerance before it decodes just that
 * key frame (snapToKeyFrame). Frames that need no rotation or resize are converted to RGBA without a
 * canvas (copyRgba); the others are drawn to one.
 */
import {
  ALL_FORMATS,
  BlobSource,
  EncodedPacketSink,
  Input,
  UnsupportedInputFormatError,
  VideoSample,
  VideoSampleSink,
  type EncodedPacket,
  type InputVideoTrack,
  type PacketRetrievalOptions,
} from 'mediabunny';
import { cappedSize, looksLikeVideoContainer, snapToKeyFrame } from '../../src/core/decode-plan';
import { ycbcrMatrix, yuv420ToRgba, type Yuv420Picture } from '../../src/core/yuv';
import { abortable, VidkindError } from '../../src/core/errors';
import type { VideoInfo } from './api';
import { avcFraming, isDisposableAvc, type NalFraming } from './disposable';
import { NeedsFallback, type FrameOptions, type FrameStats, type OpenedVideo, type RawFrame } from './source';

/** Packets read to judge the frame rate; a track with fewer is counted exactly. */
const RATE_PROBE_PACKETS = 256;

/** Opens a file for WebCodecs, or throws NeedsFallback / a VidkindError that no path can fix. */
export async function openWithWebCodecs(file: File): Promise<OpenedVideo> {
  if (typeof VideoDecoder !== 'function') {
    throw new NeedsFallback({ code: 'unsupported-codec', message: 'This browser has no WebCodecs.' }, false);
  }
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  try {
    return await openInput(input, file);
  } catch (error) {
    input.dispose();
    throw error;
  }
}

async function openInput(input: Input, file: File): Promise<OpenedVideo> {
  let containerName: string;
  let audioFormat: boolean;
  try {
    const format = await input.getFormat();
    containerName = format.name;
    audioFormat = format.mimeType.startsWith('audio/');
  } catch (error) {
    if (error instanceof UnsupportedInputFormatError) {
      throw new NeedsFallback({ code: 'unsupported-container', message: 'This file is not in a video format vidkind can read.' }, false);
    }
    throw new NeedsFallback({ code: 'corrupt-file', message: `The file could not be read: ${messageOf(error)}` }, false);
  }
  let track: InputVideoTrack | null;
  try {
    track = await input.getPrimaryVideoTrack();
  } catch (error) {
    // The container was recognised but its headers are broken (e.g. a cut-off MP4 without its index).
    throw new NeedsFallback(
      { code: 'corrupt-file', message: `The ${containerName} file is damaged or incomplete (${messageOf(error)}).` },
      true,
    );
  }
  if (!track) {
    const kinds = (await input.getTracks()).map((t) => t.type);
    // No tracks at all: the headers are missing (e.g. an MP4 cut off before its index).
    if (kinds.length === 0)
      throw new NeedsFallback({ code: 'corrupt-file', message: `The ${containerName} file is damaged or incomplete.` }, true);
    // A QuickTime file whose media data (MPEG audio frames first) comes before its index can pass
    // for MP3: an audio format found in a file that begins like a video container goes to ffmpeg.
    if (audioFormat && looksLikeVideoContainer(new Uint8Array(await file.slice(0, 1024).arrayBuffer())))
      throw new NeedsFallback(
        { code: 'no-video-track', message: `This file was read as ${containerName} audio, with no video track.` },
        true,
      );
    const what = kinds.length ? `only ${[...new Set(kinds)].join(' and ')}` : 'no tracks';
    throw new VidkindError('no-video-track', `This ${containerName} file has no video track (it has ${what}).`);
  }
  const codec = (await track.getCodec()) ?? String((await track.getInternalCodecId()) ?? 'unknown');
  if (!(await track.canDecode())) {
    throw new NeedsFallback(
      { code: 'unsupported-codec', message: `This browser cannot decode ${codec} video, and the fallback decoder could not either.` },
      true,
    );
  }
  const info = await describe(track, containerName, codec);
  // A track whose container and bitstream name no YCbCr matrix: see drawSample.
  const untagged = !(await track.getColorSpace()).matrix;
  return new WebCodecsVideo(input, track, info.startS, info.info, untagged);
}

async function describe(track: InputVideoTrack, containerName: string, codec: string): Promise<{ startS: number; info: VideoInfo }> {
  const startS = await track.getFirstTimestamp();
  const endS = await track.computeDuration();
  const stats = await track.computePacketStats(RATE_PROBE_PACKETS + 1);
  if (stats.packetCount === 0) throw new VidkindError('too-short', 'The video track has no frames.');
  const rate = await track.computeFrameRateMetrics({ targetPacketCount: RATE_PROBE_PACKETS });
  const info: VideoInfo = {
    durationS: Math.max(0, endS - startS),
    width: await track.getDisplayWidth(),
    height: await track.getDisplayHeight(),
    rotation: await track.getRotation(),
    codec,
    container: containerName.toLowerCase(),
    decoder: 'webcodecs',
  };
  if (rate.frameRateIsConstant) info.frameRate = rate.underlyingFrameRate ?? rate.bestGuessFrameRate;
  // computePacketStats stops at its target; fewer packets than that means it saw them all.
  if (stats.packetCount <= RATE_PROBE_PACKETS) info.frameCount = stats.packetCount;
  return { startS, info };
}

class WebCodecsVideo implements OpenedVideo {
  constructor(
    private readonly input: Input,
    private readonly track: InputVideoTrack,
    private readonly startS: number,
    readonly info: VideoInfo,
    private readonly untaggedMatrix: boolean,
  ) {}

  async frames(
    timestamps: number[],
    maxSide: number,
    signal: AbortSignal,
    emit: (i: number, frame: RawFrame) => Promise<void>,
    options: FrameOptions = {},
  ): Promise<FrameStats> {
    const targets = await abortable(this.snapped(timestamps, options.keyFrameToleranceS ?? 0), signal);
    const framing = options.skipDisposable === false ? 'unknown' : await this.framing();
    const skipper = framing === 'unknown' ? null : new DisposableSkipper(this.track, framing, await this.wantedPackets(targets));
    const sink = skipper ? new SkippingSampleSink(this.track, skipper) : new VideoSampleSink(this.track);
    // samplesAtTimestamps seeks to the key frame before each timestamp and decodes each packet at most once.
    const samples = sink.samplesAtTimestamps(targets)[Symbol.asyncIterator]();
    let canvas: OffscreenCanvas | null = null;
    let ctx: OffscreenCanvasRenderingContext2D | null = null;
    let copiedFrames = 0;
    try {
      for (let i = 0; i < timestamps.length; i++) {
        const next = await abortable(samples.next(), signal);
        if (next.done) throw new VidkindError('corrupt-file', `The video ended before ${timestamps[i]!.toFixed(2)} s.`);
        const sample = next.value;
        if (!sample) throw new VidkindError('corrupt-file', `No frame could be decoded at ${timestamps[i]!.toFixed(2)} s.`);
        try {
          // Downscale (memory bound only) while drawing.
          const size = cappedSize(sample.displayWidth, sample.displayHeight, maxSide);
          let data: Uint8ClampedArray;
          if (options.rgba !== 'canvas' && copiesAsIs(sample, size)) {
            data = await this.copyRgba(sample);
            copiedFrames++;
          } else {
            if (!canvas || canvas.width !== size.width || canvas.height !== size.height) {
              canvas = new OffscreenCanvas(size.width, size.height);
              ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
              if (!ctx) throw new VidkindError('internal', 'No 2D canvas in this worker.');
              ctx.imageSmoothingQuality = 'high';
            }
            await this.drawSample(sample, ctx!);
            data = ctx!.getImageData(0, 0, size.width, size.height).data;
          }
          await emit(i, { actualTimestamp: roundUs(sample.timestamp - this.startS), width: size.width, height: size.height, data });
        } finally {
          sample.close();
        }
      }
    } finally {
      // Ends the decode pipeline (and closes any frames it still holds) without waiting on it.
      void samples.return?.(undefined).catch(() => undefined);
    }
    return { skippedPackets: skipper?.skipped ?? 0, copiedFrames, ffmpegRuns: 0 };
  }

  /**
   * The frame's pixels as RGBA, for frames that need no rotation, flip or resize (copiesAsIs).
   * BT.601 video (and video that names no matrix, re-wrapped as BT.601: bt601Frame) is converted by
   * the browser (`VideoFrame.copyTo` to RGBA, in native code off the worker's thread: ~22 ms for a
   * 720p frame where drawing it to a canvas and reading it back took ~41 ms). Video that names
   * BT.709 or BT.2020 is converted as ffmpeg converts it (convertedRgba).
   */
  private async copyRgba(sample: VideoSample): Promise<Uint8ClampedArray> {
    const converted = await this.convertedRgba(sample);
    if (converted) return converted.data;
    const frame = this.untaggedMatrix && sample.format ? await bt601Frame(sample) : sample.toVideoFrame();
    try {
      const options: VideoFrameCopyToOptions = { format: 'RGBA', colorSpace: 'srgb' };
      const data = new Uint8ClampedArray(frame.allocationSize(options));
      await frame.copyTo(data, options);
      return data;
    } finally {
      frame.close();
    }
  }

  /**
   * For 8-bit 4:2:0 video that names BT.709 or BT.2020: its YUV planes copied out and converted to
   * RGBA as ffmpeg converts them (src/core/yuv.ts), at the decoded (visible) size, before any
   * rotation or resize. The browser's own conversion gives such video BT.601's blue (up to ~10
   * levels off in Chromium 156). This costs about what copyTo does per frame but runs on the
   * worker's thread, which also feeds the decoder (in the bench run with every frame converted this
   * way, 2026-11-27, the 10 s 720p clip's verdict came ~0.3 s later), so BT.601 and untagged video
   * keep the browser's conversion. Null for any other video.
   */
  private async convertedRgba(sample: VideoSample): Promise<{ data: Uint8ClampedArray; init: VideoFrameBufferInit } | null> {
    const format = sample.format;
    if (this.untaggedMatrix || !isYuv420(format)) return null;
    const matrix = ycbcrMatrix(sample.colorSpace.matrix);
    if (!matrix || matrix === 'bt601') return null;
    const frame = sample.toVideoFrame();
    try {
      const planes = await copyPlanes(frame);
      const data = yuv420ToRgba({ format, ...planes }, matrix, frame.colorSpace.fullRange ?? false);
      const { width, height } = planes;
      const { timestamp, displayWidth, displayHeight } = frame;
      return { data, init: { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp, displayWidth, displayHeight } };
    } finally {
      frame.close();
    }
  }

  /**
   * Draws a sample to the canvas (drawWithFit applies the rotation metadata and any resize). Video
   * that does not say which YCbCr matrix it uses is converted with BT.601, as ffmpeg does
   * (bt601Frame); BT.709 and BT.2020 video is converted first (convertedRgba), and its RGBA drawn;
   * other video is drawn as it is.
   */
  private async drawSample(sample: VideoSample, ctx: OffscreenCanvasRenderingContext2D): Promise<void> {
    let frame: VideoFrame;
    const converted = await this.convertedRgba(sample);
    if (converted) {
      frame = new VideoFrame(converted.data, converted.init);
    } else if (this.untaggedMatrix && sample.format) {
      frame = await bt601Frame(sample);
    } else {
      sample.drawWithFit(ctx, { fit: 'fill' });
      return;
    }
    const redrawn = new VideoSample(frame, { rotation: sample.rotation, flip: sample.flip, timestamp: sample.timestamp });
    try {
      redrawn.drawWithFit(ctx, { fit: 'fill' });
    } finally {
      redrawn.close();
    }
  }

  /** How this track frames its NAL units, when it is H.264; 'unknown' turns skipping off. */
  private async framing(): Promise<NalFraming | 'unknown'> {
    if (this.info.codec !== 'avc') return 'unknown';
    const config = await this.track.getDecoderConfig();
    return config ? avcFraming(config.description) : 'unknown';
  }

  /** The presentation times of the packets the sink will emit for these track times (never skipped). */
  private async wantedPackets(targets: number[]): Promise<Set<number>> {
    const packets = new EncodedPacketSink(this.track);
    const wanted = new Set<number>();
    for (const t of targets) {
      const packet = await packets.getPacket(t, { metadataOnly: true });
      if (packet) wanted.add(packet.timestamp);
    }
    return wanted;
  }

  /**
   * The track times to decode: each timestamp, or the key frame within `toleranceS` before it. The key
   * frame comes from the container's index (one packet read to verify it, no decoding). Snapping
   * keeps the order (a later sample's key frame is never before an earlier one's), so the sink
   * still decodes each packet at most once.
   */
  private async snapped(timestamps: number[], toleranceS: number): Promise<number[]> {
    if (!(toleranceS > 0)) return timestamps.map((t) => t + this.startS);
    const packets = new EncodedPacketSink(this.track);
    const out: number[] = [];
    for (const t of timestamps) {
      // verifyKeyPackets: the same key frames samplesAtTimestamps starts its decodes from.
      const key = await packets.getKeyPacket(t + this.startS, { verifyKeyPackets: true });
      const snapped = snapToKeyFrame(t, key ? roundUs(key.timestamp - this.startS) : null, toleranceS);
      // A snapped sample is decoded at the key frame's exact track time: the µs-rounded time can fall
      // just before it (e.g. 8.333333 < 8.3333333…), which would select the frame before the key
      // frame and decode the whole previous GOP.
      const onKey = key !== null && (snapped !== t || Math.abs(key.timestamp - this.startS - t) < 1e-6);
      out.push(onKey ? key.timestamp : t + this.startS);
    }
    return out;
  }

  close(): void {
    if (!this.input.disposed) this.input.dispose();
  }
}

/** Decides, packet by packet, which disposable frames to leave out, and counts them. */
class DisposableSkipper {
  skipped = 0;
  constructor(
    readonly track: InputVideoTrack,
    private readonly framing: NalFraming,
    private readonly wanted: Set<number>,
  ) {}

  skips(packet: EncodedPacket): boolean {
    if (packet.type === 'key' || packet.data.byteLength === 0 || this.wanted.has(packet.timestamp)) return false;
    if (!isDisposableAvc(packet.data, this.framing)) return false;
    this.skipped++;
    return true;
  }
}

/** An EncodedPacketSink whose getNextPacket steps over the packets the skipper leaves out. */
class SkippingPacketSink extends EncodedPacketSink {
  constructor(private readonly skipper: DisposableSkipper) {
    super(skipper.track);
  }

  override async getNextPacket(packet: EncodedPacket, options?: PacketRetrievalOptions): Promise<EncodedPacket | null> {
    let next = await super.getNextPacket(packet, options);
    while (next && this.skipper.skips(next)) next = await super.getNextPacket(next, options);
    return next;
  }
}

/**
 * mediabunny's VideoSampleSink, fed by a SkippingPacketSink. mediabunny (1.61) has no option to
 * skip packets; its samplesAtTimestamps reads packets through the sink's internal
 * `_createPacketSink()`, which this overrides (and which does no more than construct an
 * EncodedPacketSink). The e2e decode spec checks that packets are skipped and that every frame is
 * identical to a full decode, so an upgrade that renames the hook fails there instead of quietly
 * decoding everything.
 */
class SkippingSampleSink extends VideoSampleSink {
  constructor(
    track: InputVideoTrack,
    private readonly skipper: DisposableSkipper,
  ) {
    super(track);
  }

  _createPacketSink(): EncodedPacketSink {
    return new SkippingPacketSink(this.skipper);
  }
}

/**
 * Whether a frame is in one of the 8-bit 4:2:0 formats that copyRgba and convertedRgba convert
 * (what H.264, VP8/VP9 and AV1 decode to); others (10-bit, 4:4:4, alpha) are drawn by the browser.
 */
function isYuv420(format: VideoSample['format']): format is Yuv420Picture['format'] {
  return format === 'I420' || format === 'NV12';
}

/**
 * Whether copyRgba gives the picture drawing would (up to the colour conversion): no rotation or
 * flip, square pixels, and a size the decoder keeps (no downscale for memory).
 */
function copiesAsIs(sample: VideoSample, size: { width: number; height: number }): boolean {
  if (!isYuv420(sample.format) || sample.rotation !== 0 || sample.flip) return false;
  const { width, height } = sample.visibleRect;
  return size.width === width && size.height === height && sample.displayWidth === width && sample.displayHeight === height;
}

/**
 * The sample's decoded YUV planes in a new VideoFrame that names the BT.601 matrix (smpte170m).
 * For video that does not say which YCbCr matrix it uses: ffmpeg converts such video with BT.601,
 * and node-trainer decodes the training clips (and `vidkind classify` its files) with ffmpeg, so the
 * models learned colours converted that way. Chromium, through mediabunny, would assume BT.709,
 * which shifts saturated colours by up to ~12 luma levels (measured on the fixtures). The caller
 * closes the frame.
 */
async function bt601Frame(sample: VideoSample): Promise<VideoFrame> {
  const frame = sample.toVideoFrame();
  try {
    // The new frame is exactly the visible rectangle that copyPlanes copies.
    const { data, layout, width, height } = await copyPlanes(frame);
    return new VideoFrame(data, {
      format: frame.format!,
      codedWidth: width,
      codedHeight: height,
      timestamp: frame.timestamp,
      layout,
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      colorSpace: { ...frame.colorSpace.toJSON(), matrix: 'smpte170m' },
    });
  } finally {
    frame.close();
  }
}

/** A frame's planes in its own format, copied out: the visible rectangle, tightly packed, and where each plane lies. */
async function copyPlanes(frame: VideoFrame): Promise<{ data: Uint8Array; layout: PlaneLayout[]; width: number; height: number }> {
  const data = new Uint8Array(frame.allocationSize());
  const layout = await frame.copyTo(data);
  const { width, height } = frame.visibleRect ?? { width: frame.codedWidth, height: frame.codedHeight };
  return { data, layout, width, height };
}

function roundUs(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
