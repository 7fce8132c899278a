/**
 * Stage probe (bench/pieces.ts): mediabunny + WebCodecs alone, on a picked file, so that decoding
 * is timed apart from drawing and reading pixels back, and each decode strategy apart.
 */
import { ALL_FORMATS, BlobSource, Input, VideoSampleSink } from 'mediabunny';

interface Job {
  file: File;
  timestamps: number[];
  /** 'decode': close each sample; 'draw': also draw to a canvas of this size and read the pixels back. */
  mode: 'decode' | 'draw' | 'copy';
  width?: number;
  height?: number;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const { file, timestamps, mode } = e.data;
  try {
    const t0 = performance.now();
    const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
    const track = (await input.getPrimaryVideoTrack())!;
    const start = await track.getFirstTimestamp();
    const tOpen = performance.now();
    const sink = new VideoSampleSink(track);
    const w = e.data.width ?? track.displayWidth;
    const h = e.data.height ?? track.displayHeight;
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false })!;
    ctx.imageSmoothingQuality = 'high';
    let drawMs = 0;
    let n = 0;
    for await (const sample of sink.samplesAtTimestamps(timestamps.map((t) => t + start))) {
      if (!sample) continue;
      if (mode === 'copy') {
        const t = performance.now();
        const frame = sample.toVideoFrame();
        const opts = { format: 'RGBA', colorSpace: 'srgb' } as unknown as VideoFrameCopyToOptions;
        const buf = new Uint8Array(frame.allocationSize(opts));
        await frame.copyTo(buf, opts);
        frame.close();
        drawMs += performance.now() - t;
      }
      if (mode === 'draw') {
        const t = performance.now();
        sample.drawWithFit(ctx, { fit: 'fill' });
        ctx.getImageData(0, 0, w, h);
        drawMs += performance.now() - t;
      }
      sample.close();
      n++;
    }
    input.dispose();
    self.postMessage({ ok: true, openMs: tOpen - t0, totalMs: performance.now() - t0, drawMs, frames: n });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
