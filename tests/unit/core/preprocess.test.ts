import { describe, expect, it } from 'vitest';
import {
  frameToTensor,
  frameTensorSize,
  resampleRgb,
  rgbToTensor,
  thumbnail,
  type InputSpec,
  type RgbaFrame,
} from '../../../src/core/preprocess';

function solid(w: number, h: number, rgb: [number, number, number]): RgbaFrame {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return { width: w, height: h, data };
}

/** Left half black, right half white. */
function halves(w: number, h: number): RgbaFrame {
  const f = solid(w, h, [0, 0, 0]);
  for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) f.data.set([255, 255, 255, 255], (y * w + x) * 4);
  return f;
}

const spec: InputSpec = { width: 4, height: 2, layout: 'NHWC', range: [0, 1] };

describe('resampleRgb', () => {
  it('keeps a solid colour exactly at any scale', () => {
    const out = resampleRgb(solid(37, 19, [10, 200, 30]), 8, 5);
    for (let i = 0; i < out.length; i += 3) {
      expect(out[i]).toBeCloseTo(10, 4);
      expect(out[i + 1]).toBeCloseTo(200, 4);
      expect(out[i + 2]).toBeCloseTo(30, 4);
    }
  });

  it('is the identity at the same size', () => {
    const f = halves(4, 2);
    const out = resampleRgb(f, 4, 2);
    expect([...out.filter((_, i) => i % 3 === 0)]).toEqual([0, 0, 255, 255, 0, 0, 255, 255]);
  });

  it('antialiases when downscaling: a 2x box of black and white averages', () => {
    // 4 columns black,white,black,white -> 2 columns; each output averages its neighbourhood.
    const f = solid(4, 1, [0, 0, 0]);
    f.data.set([255, 255, 255, 255], 4);
    f.data.set([255, 255, 255, 255], 12);
    const out = resampleRgb(f, 2, 1);
    // Triangle filter with support 2 centred at 1.0: px0 (centre 0.5) w=0.75, px1 (1.5) w=0.75,
    // px2 (2.5) w=0.25 -> (0*.75 + 255*.75 + 0*.25) / 1.75.
    expect(out[0]).toBeCloseTo((255 * 0.75) / 1.75, 3);
  });

  it('mirrors with flip', () => {
    const out = resampleRgb(halves(4, 2), 4, 2, { flip: true });
    expect([...out.filter((_, i) => i % 3 === 0)]).toEqual([255, 255, 0, 0, 255, 255, 0, 0]);
  });

  it('crops the centre', () => {
    // 8 wide: columns 0-3 black, 4-7 white; a 0.5 crop keeps columns 2..5 -> 2 black, 2 white.
    const out = resampleRgb(halves(8, 2), 4, 2, { crop: 0.5 });
    expect([...out.filter((_, i) => i % 3 === 0)].slice(0, 4)).toEqual([0, 0, 255, 255]);
  });

  it('rejects short buffers and bad sizes', () => {
    expect(() => resampleRgb({ width: 4, height: 4, data: new Uint8Array(10) }, 2, 2)).toThrow(RangeError);
    expect(() => resampleRgb(solid(2, 2, [0, 0, 0]), 0, 2)).toThrow(RangeError);
    expect(() => resampleRgb(solid(2, 2, [0, 0, 0]), 2, 2, { crop: 0 })).toThrow(RangeError);
  });

  it('handles 1x1 frames and extreme aspect ratios', () => {
    expect([...resampleRgb(solid(1, 1, [9, 8, 7]), 3, 3)].slice(0, 3)).toEqual([9, 8, 7]);
    expect(resampleRgb(solid(1000, 3, [1, 2, 3]), 5, 5)[14]).toBeCloseTo(3, 4);
  });
});

describe('frameToTensor', () => {
  it('maps 0..255 to the value range (NHWC)', () => {
    const t = frameToTensor(halves(4, 2), spec);
    expect(t.length).toBe(frameTensorSize(spec));
    expect([...t.slice(0, 12)]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('writes planes for NCHW and applies mean/std', () => {
    const s: InputSpec = { width: 2, height: 1, layout: 'NCHW', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 1] };
    const t = frameToTensor(solid(2, 1, [255, 0, 255]), s);
    // R plane: (1-0.5)/0.5 = 1; G plane: (0-0.5)/0.25 = -2; B plane: (1-0.5)/1 = 0.5
    expect([...t]).toEqual([1, 1, -2, -2, 0.5, 0.5]);
  });

  it('maps to [-1, 1] ranges', () => {
    const t = frameToTensor(solid(3, 3, [0, 255, 0]), { width: 1, height: 1, layout: 'NHWC', range: [-1, 1] });
    [-1, 1, -1].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 6));
  });

  it('fills batch slots without touching the others', () => {
    const out = new Float32Array(frameTensorSize(spec) * 2).fill(7);
    frameToTensor(solid(4, 2, [255, 255, 255]), spec, {}, out, 1);
    expect(out[0]).toBe(7);
    expect(out[frameTensorSize(spec)]).toBe(1);
    expect(() => frameToTensor(solid(4, 2, [0, 0, 0]), spec, {}, out, 2)).toThrow(RangeError);
  });
});

describe('thumbnail', () => {
  it('keeps the aspect ratio within maxSide', () => {
    const t = thumbnail(solid(1280, 720, [50, 60, 70]), 160);
    expect([t.width, t.height]).toEqual([160, 90]);
    expect([...t.data.slice(0, 4)]).toEqual([50, 60, 70, 255]);
  });
});

/**
 * The triangle filter written plainly (per-tap index arithmetic, float32 weights), as it was
 * before the speed-up: training features were extracted with it, so the fast loops must give the
 * very same bits, not merely close values.
 */
function plainResample(frame: RgbaFrame, dstW: number, dstH: number, crop = 1): Float32Array {
  const { width: W, height: H, data } = frame;
  const kernel = (srcStart: number, srcLength: number, srcSize: number, dstSize: number) => {
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
      for (let k = i * maxTaps; k < i * maxTaps + n; k++) weights[k] = weights[k]! / sum;
      start[i] = lo;
      count[i] = n;
    }
    return { start, count, weights, maxTaps };
  };
  const kx = kernel((W - W * crop) / 2, W * crop, W, dstW);
  const ky = kernel((H - H * crop) / 2, H * crop, H, dstH);
  const rowLo = ky.start[0]!;
  const rows = ky.start[dstH - 1]! + ky.count[dstH - 1]! - rowLo;
  const tmp = new Float32Array(rows * dstW * 3);
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < dstW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < kx.count[x]!; k++) {
        const w = kx.weights[x * kx.maxTaps + k]!;
        const p = ((rowLo + y) * W + kx.start[x]! + k) * 4;
        r += data[p]! * w;
        g += data[p + 1]! * w;
        b += data[p + 2]! * w;
      }
      tmp.set([r, g, b], (y * dstW + x) * 3);
    }
  const out = new Float32Array(dstH * dstW * 3);
  for (let y = 0; y < dstH; y++)
    for (let k = 0; k < ky.count[y]!; k++) {
      const w = ky.weights[y * ky.maxTaps + k]!;
      const src = (ky.start[y]! - rowLo + k) * dstW * 3;
      for (let i = 0; i < dstW * 3; i++) out[y * dstW * 3 + i] = out[y * dstW * 3 + i]! + tmp[src + i]! * w;
    }
  return out;
}

describe('resampleRgb numerics (training/serving parity)', () => {
  it('gives the same bits as the plain per-tap filter, on noise, at several sizes and crops', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const [w, h, dw, dh, crop] of [
      [1280, 720, 224, 224, 1],
      [640, 360, 224, 224, 0.875],
      [97, 61, 224, 160, 1],
      [300, 1280, 64, 48, 0.5],
    ] as const) {
      const data = new Uint8ClampedArray(w * h * 4).map(() => Math.floor(rnd() * 256));
      const got = resampleRgb({ width: w, height: h, data }, dw, dh, { crop });
      const want = plainResample({ width: w, height: h, data }, dw, dh, crop);
      expect(got.length).toBe(want.length);
      let same = 0;
      for (let i = 0; i < got.length; i++) if (Object.is(got[i], want[i])) same++;
      expect(same).toBe(want.length);
    }
  });

  it('rgbToTensor on a shared resize equals frameToTensor (one resize serves several backbones)', () => {
    const frame = halves(64, 36);
    const a: InputSpec = { width: 8, height: 6, layout: 'NHWC', range: [0, 1] };
    const b: InputSpec = { width: 8, height: 6, layout: 'NCHW', range: [-1, 1], mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] };
    const rgb = resampleRgb(frame, 8, 6, { flip: true });
    for (const s of [a, b]) expect([...rgbToTensor(rgb, s)]).toEqual([...frameToTensor(frame, s, { flip: true })]);
    expect(() => rgbToTensor(resampleRgb(frame, 4, 6), a)).toThrow(RangeError);
  });
});
