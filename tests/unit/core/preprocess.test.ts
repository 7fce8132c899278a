import { describe, expect, it } from 'vitest';
import { frameToTensor, frameTensorSize, resampleRgb, thumbnail, type InputSpec, type RgbaFrame } from '../../../src/core/preprocess';

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
