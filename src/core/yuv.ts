/**
 * 8-bit 4:2:0 YCbCr (I420 or NV12 planes, as `VideoFrame.copyTo` hands them out) to RGBA, the way
 * native ffmpeg converts for node-trainer: the YCbCr matrix the video names (BT.601 when it names
 * none), limited or full range, each chroma sample used for its 2x2 block of pixels, and no other
 * colour management.
 *
 * Written by hand: the browser's own conversion (VideoFrame.copyTo to RGBA, or drawing to a canvas)
 * gets BT.709's blue wrong by up to ~10 levels in Chromium 156 (its U→B coefficient is BT.601's;
 * measured on tests/fixtures/media/bt709.mp4 against an exact conversion), so phone videos, which
 * name BT.709, would look slightly different to the model than the same files do to
 * `vidkind classify` and to training. No maintained library converts planar YUV in a worker
 * without WebGL.
 */

export type YcbcrMatrix = 'bt601' | 'bt709' | 'bt2020';

/** Luma weights (Kr, Kb) of each matrix (ITU-R BT.601, BT.709, BT.2020 non-constant luminance). */
const WEIGHTS: Record<YcbcrMatrix, [number, number]> = {
  bt601: [0.299, 0.114],
  bt709: [0.2126, 0.0722],
  bt2020: [0.2627, 0.0593],
};

/**
 * The matrix for a WebCodecs `VideoMatrixCoefficients` value, or null for one this conversion does
 * not know (the caller then lets the browser convert). `smpte170m` and `bt470bg` are both BT.601.
 */
export function ycbcrMatrix(name: string | null | undefined): YcbcrMatrix | null {
  switch (name) {
    case 'bt709':
      return 'bt709';
    case 'smpte170m':
    case 'bt470bg':
      return 'bt601';
    case 'bt2020-ncl':
      return 'bt2020';
    default:
      return null;
  }
}

/** Where a plane starts in the buffer and how many bytes one of its rows takes. */
export interface PlaneLayoutLike {
  offset: number;
  stride: number;
}

/** A decoded 8-bit 4:2:0 picture: I420 (Y, U, V planes) or NV12 (Y plane, then interleaved UV). */
export interface Yuv420Picture {
  format: 'I420' | 'NV12';
  width: number;
  height: number;
  data: Uint8Array;
  layout: PlaneLayoutLike[];
}

/**
 * Per-value tables for one matrix and range: the luma term, and each chroma value's contribution to
 * R, G and B, in 16.16 fixed point (integer arithmetic is ~3x faster than storing doubles into a
 * Uint8ClampedArray); the luma term carries the +0.5 that makes the shift round. Cached: a video
 * uses one or two combinations.
 */
interface Tables {
  y: Int32Array;
  rv: Int32Array;
  gu: Int32Array;
  gv: Int32Array;
  bu: Int32Array;
}
const ONE = 1 << 16;
const tableCache = new Map<string, Tables>();

function tables(matrix: YcbcrMatrix, fullRange: boolean): Tables {
  const key = `${matrix}/${fullRange}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  const [kr, kb] = WEIGHTS[matrix];
  const kg = 1 - kr - kb;
  const t: Tables = {
    y: new Int32Array(256),
    rv: new Int32Array(256),
    gu: new Int32Array(256),
    gv: new Int32Array(256),
    bu: new Int32Array(256),
  };
  for (let v = 0; v < 256; v++) {
    t.y[v] = Math.round((fullRange ? v : ((v - 16) * 255) / 219) * ONE) + ONE / 2;
    const c = fullRange ? v - 128 : ((v - 128) * 255) / 224;
    t.rv[v] = Math.round(2 * (1 - kr) * c * ONE);
    t.bu[v] = Math.round(2 * (1 - kb) * c * ONE);
    t.gu[v] = Math.round(((-2 * (1 - kb) * kb * c) / kg) * ONE);
    t.gv[v] = Math.round(((-2 * (1 - kr) * kr * c) / kg) * ONE);
  }
  tableCache.set(key, t);
  return t;
}

/**
 * Converts a picture to RGBA (row-major, no padding, alpha 255), rounded to the nearest level and
 * clamped to 0..255. Odd sizes are handled: the last row and column use the chroma
 * sample of their block, as ffmpeg does.
 */
export function yuv420ToRgba(picture: Yuv420Picture, matrix: YcbcrMatrix, fullRange: boolean): Uint8ClampedArray {
  const { width, height, data, layout, format } = picture;
  if (!(width > 0 && height > 0)) throw new RangeError(`picture size must be positive, got ${width}x${height}`);
  const planes = format === 'I420' ? 3 : 2;
  if (layout.length < planes) throw new RangeError(`${format} needs ${planes} planes, got ${layout.length}`);
  const { y: ty, rv, gu, gv, bu } = tables(matrix, fullRange);
  const out = new Uint8ClampedArray(width * height * 4);
  const yPlane = layout[0]!;
  const uPlane = layout[1]!;
  const vPlane = format === 'I420' ? layout[2]! : layout[1]!;
  // NV12 interleaves U and V: a chroma sample is 2 bytes apart, V one byte after U.
  const step = format === 'I420' ? 1 : 2;
  const vShift = format === 'I420' ? 0 : 1;
  const pairs = width >> 1;
  for (let row = 0; row < height; row++) {
    let yi = yPlane.offset + row * yPlane.stride;
    let ui = uPlane.offset + (row >> 1) * uPlane.stride;
    let vi = vPlane.offset + (row >> 1) * vPlane.stride + vShift;
    let o = row * width * 4;
    // Two pixels per chroma sample; an odd last column uses the sample of its block.
    for (let k = 0; k <= pairs; k++) {
      if (k === pairs && (width & 1) === 0) break;
      const u = data[ui]!;
      const v = data[vi]!;
      ui += step;
      vi += step;
      const r = rv[v]!;
      const g = gu[u]! + gv[v]!;
      const b = bu[u]!;
      for (let n = k === pairs ? 1 : 2; n > 0; n--) {
        const y = ty[data[yi++]!]!;
        // Arithmetic shift floors (the +0.5 is in y); the clamped array clamps to 0..255.
        out[o] = (y + r) >> 16;
        out[o + 1] = (y + g) >> 16;
        out[o + 2] = (y + b) >> 16;
        out[o + 3] = 255;
        o += 4;
      }
    }
  }
  return out;
}
