/**
 * Frame -> model input tensor. THE one implementation used by node-trainer (training features) and
 * by the browser (serving), so that both see the same pixels.
 *
 * Hand-written rather than taken from a library: the resize must give identical numbers in a
 * browser worker and in Node without canvas, WebGL or native addons, and no maintained pure-TS
 * library offers an antialiased resize on raw RGBA with a documented kernel.
 *
 * Resize filter: separable triangle (bilinear) filter whose support widens with the downscale
 * factor (antialiased, as PIL's BILINEAR), sampled at pixel centres. The (optionally cropped) frame
 * is stretched to the model's input size; aspect ratio is not preserved, so nothing is cut off.
 */

/** An RGBA frame, row-major, 4 bytes per pixel, no padding. */
export interface RgbaFrame {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** What a backbone expects, as described by its manifest entry. */
export interface InputSpec {
  width: number;
  height: number;
  layout: 'NHWC' | 'NCHW';
  /** Pixel values 0..255 are first mapped linearly to [range[0], range[1]]. */
  range: [number, number];
  /** Then, per channel (RGB), (v - mean) / std. */
  mean?: [number, number, number];
  std?: [number, number, number];
}

/** One test-time view of a frame. */
export interface ViewSpec {
  /** Centre crop: the fraction of width and height kept, in (0, 1]. Default 1 (whole frame). */
  crop?: number;
  /** Mirror horizontally. */
  flip?: boolean;
}

interface Kernel {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Filter taps for resampling [srcStart, srcStart + srcLength) of a line of `srcSize` onto `dstSize`. */
function triangleKernel(srcStart: number, srcLength: number, srcSize: number, dstSize: number): Kernel {
  const scale = srcLength / dstSize;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstSize);
  const count = new Int32Array(dstSize);
  const weights = new Float32Array(dstSize * maxTaps);
  for (let i = 0; i < dstSize; i++) {
    const centre = srcStart + (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(srcSize, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights[i * maxTaps + n] = w;
      sum += w;
      n++;
    }
    if (sum === 0) {
      // Degenerate (centre outside the frame): take the nearest pixel.
      const j = Math.min(srcSize - 1, Math.max(0, Math.floor(centre)));
      start[i] = j;
      count[i] = 1;
      weights[i * maxTaps] = 1;
      continue;
    }
    for (let k = i * maxTaps; k < i * maxTaps + n; k++) weights[k] = weights[k]! / sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resamples the (cropped) frame to dstW x dstH, returning RGB floats in 0..255, HWC order.
 * `flip` mirrors horizontally.
 */
export function resampleRgb(frame: RgbaFrame, dstW: number, dstH: number, view: ViewSpec = {}): Float32Array {
  const { width: W, height: H, data } = frame;
  if (!(W > 0 && H > 0) || data.length < W * H * 4)
    throw new RangeError(`frame data (${data.length} bytes) does not hold ${W}x${H} RGBA pixels`);
  if (!(Number.isInteger(dstW) && Number.isInteger(dstH) && dstW > 0 && dstH > 0))
    throw new RangeError(`target size must be positive integers, got ${dstW}x${dstH}`);
  const crop = view.crop ?? 1;
  if (!(crop > 0 && crop <= 1)) throw new RangeError(`crop must be in (0, 1], got ${crop}`);
  const cw = W * crop;
  const ch = H * crop;
  const kx = triangleKernel((W - cw) / 2, cw, W, dstW);
  const ky = triangleKernel((H - ch) / 2, ch, H, dstH);

  // Only the source rows that the vertical kernel touches are filtered horizontally.
  const rowLo = ky.start[0]!;
  const rowHi = ky.start[dstH - 1]! + ky.count[dstH - 1]!;
  const rows = rowHi - rowLo;
  const tmp = new Float32Array(rows * dstW * 3);
  // Speed (the same arithmetic, in the same order, as the plain loops over taps): weights widened
  // once to float64 (exact), byte offsets precomputed, a running source pointer. The sums stay in
  // doubles and are rounded to float32 once per output, so results are bit-identical.
  const wx = Float64Array.from(kx.weights);
  const sx = new Int32Array(dstW);
  for (let x = 0; x < dstW; x++) sx[x] = kx.start[x]! * 4;
  const cx = kx.count;
  const tx = kx.maxTaps;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const srcRow = (rowLo + y) * W * 4;
    for (let x = 0; x < dstW; x++) {
      let k = x * tx;
      const end = k + cx[x]!;
      let p = srcRow + sx[x]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (; k < end; k++, p += 4) {
        const w = wx[k]!;
        r += data[p]! * w;
        g += data[p + 1]! * w;
        b += data[p + 2]! * w;
      }
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
      o += 3;
    }
  }
  const out = new Float32Array(dstH * dstW * 3);
  const rowLen = dstW * 3;
  for (let y = 0; y < dstH; y++) {
    const s = ky.start[y]! - rowLo;
    const n = ky.count[y]!;
    const wo = y * ky.maxTaps;
    const dst = y * rowLen;
    for (let k = 0; k < n; k++) {
      const w = ky.weights[wo + k]!;
      const src = (s + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[dst + i] = out[dst + i]! + tmp[src + i]! * w;
    }
  }
  if (view.flip) {
    for (let y = 0; y < dstH; y++) {
      const row = y * rowLen;
      for (let x = 0; x < dstW >> 1; x++) {
        const a = row + x * 3;
        const b = row + (dstW - 1 - x) * 3;
        for (let c = 0; c < 3; c++) {
          const t = out[a + c]!;
          out[a + c] = out[b + c]!;
          out[b + c] = t;
        }
      }
    }
  }
  return out;
}

/** Number of floats one frame occupies in a model input of this spec. */
export function frameTensorSize(spec: InputSpec): number {
  return spec.width * spec.height * 3;
}

/**
 * Writes one frame, as the backbone expects it, into `out` at frame slot `slot`
 * (so a batch [N, ...] is filled one frame at a time without copies). Returns `out`.
 */
export function frameToTensor(
  frame: RgbaFrame,
  spec: InputSpec,
  view: ViewSpec = {},
  out: Float32Array = new Float32Array(frameTensorSize(spec)),
  slot = 0,
): Float32Array {
  return rgbToTensor(resampleRgb(frame, spec.width, spec.height, view), spec, out, slot);
}

/**
 * The second half of `frameToTensor`: RGB floats (0..255, HWC, as `resampleRgb` returns them at
 * the spec's size) mapped to the spec's range, normalisation and layout. Lets several backbones
 * with the same input size share one resize of a frame.
 */
export function rgbToTensor(
  rgb: Float32Array,
  spec: InputSpec,
  out: Float32Array = new Float32Array(frameTensorSize(spec)),
  slot = 0,
): Float32Array {
  const { width: w, height: h } = spec;
  const size = frameTensorSize(spec);
  if (rgb.length !== size) throw new RangeError(`rgb holds ${rgb.length} floats, a ${w}x${h} frame needs ${size}`);
  if (out.length < (slot + 1) * size) throw new RangeError(`output holds ${out.length} floats, slot ${slot} needs ${(slot + 1) * size}`);
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  const a = [0, 1, 2].map((c) => scale / std[c]!);
  const b = [0, 1, 2].map((c) => (lo - mean[c]!) / std[c]!);
  const base = slot * size;
  const plane = w * h;
  if (spec.layout === 'NHWC') {
    for (let p = 0; p < plane; p++) {
      const i = p * 3;
      out[base + i] = rgb[i]! * a[0]! + b[0]!;
      out[base + i + 1] = rgb[i + 1]! * a[1]! + b[1]!;
      out[base + i + 2] = rgb[i + 2]! * a[2]! + b[2]!;
    }
  } else {
    for (let p = 0; p < plane; p++) {
      const i = p * 3;
      out[base + p] = rgb[i]! * a[0]! + b[0]!;
      out[base + plane + p] = rgb[i + 1]! * a[1]! + b[1]!;
      out[base + 2 * plane + p] = rgb[i + 2]! * a[2]! + b[2]!;
    }
  }
  return out;
}

/** A small RGBA copy of a frame (thumbnails), with the same filter. */
export function thumbnail(frame: RgbaFrame, maxSide: number): RgbaFrame {
  const s = Math.min(1, maxSide / Math.max(frame.width, frame.height));
  const width = Math.max(1, Math.round(frame.width * s));
  const height = Math.max(1, Math.round(frame.height * s));
  const rgb = resampleRgb(frame, width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data[p * 4] = rgb[p * 3]!;
    data[p * 4 + 1] = rgb[p * 3 + 1]!;
    data[p * 4 + 2] = rgb[p * 3 + 2]!;
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}
