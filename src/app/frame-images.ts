/** Sampled frames (raw RGBA from the pipeline) turned into small JPEG object URLs for <img> elements. */
import type { FrameThumbnail } from '../lib/classifier-types';

export interface FrameImage {
  /** Time of the frame in the video, seconds. */
  t: number;
  url: string;
  width: number;
  height: number;
}

/** Encodes thumbnails as JPEG blobs; the raw pixels can then be garbage-collected (1000 files stay light). */
export async function thumbnailsToUrls(thumbnails: FrameThumbnail[]): Promise<FrameImage[]> {
  const out: FrameImage[] = [];
  for (const t of thumbnails) {
    if (t.width <= 0 || t.height <= 0) continue;
    const canvas = new OffscreenCanvas(t.width, t.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) break;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(t.data), t.width, t.height), 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    out.push({ t: t.t, url: URL.createObjectURL(blob), width: t.width, height: t.height });
  }
  return out;
}

/** The frame shown beside a result: the middle one (the first is often a title or a black frame). */
export function representativeFrame(frames: FrameImage[]): FrameImage | undefined {
  return frames[Math.floor(frames.length / 2)];
}
