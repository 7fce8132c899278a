import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ycbcrMatrix, yuv420ToRgba, type YcbcrMatrix, type Yuv420Picture } from '../../../src/core/yuv';

const WEIGHTS: Record<YcbcrMatrix, [number, number]> = { bt601: [0.299, 0.114], bt709: [0.2126, 0.0722], bt2020: [0.2627, 0.0593] };

/** The forward conversion (float, per ITU-R): RGB 0..255 to Y, U, V codes. */
function toYuv(rgb: [number, number, number], matrix: YcbcrMatrix, fullRange: boolean): [number, number, number] {
  const [kr, kb] = WEIGHTS[matrix];
  const [r, g, b] = rgb.map((v) => v / 255) as [number, number, number];
  const y = kr * r + (1 - kr - kb) * g + kb * b;
  const cb = (b - y) / (2 * (1 - kb));
  const cr = (r - y) / (2 * (1 - kr));
  return fullRange ? [y * 255, 128 + cb * 255, 128 + cr * 255] : [16 + y * 219, 128 + cb * 224, 128 + cr * 224];
}

/** An I420 picture of 2x2 blocks, each block one colour (so 4:2:0 loses nothing), rows padded to `stride`. */
function blocks(colours: [number, number, number][], blocksWide: number, matrix: YcbcrMatrix, fullRange: boolean, pad = 0) {
  const width = blocksWide * 2;
  const height = Math.ceil(colours.length / blocksWide) * 2;
  const yStride = width + pad;
  const cStride = width / 2 + pad;
  const cHeight = height / 2;
  const data = new Uint8Array(yStride * height + 2 * cStride * cHeight);
  const uOffset = yStride * height;
  const vOffset = uOffset + cStride * cHeight;
  colours.forEach((rgb, i) => {
    const [y, u, v] = toYuv(rgb, matrix, fullRange).map((x) => Math.min(255, Math.max(0, Math.round(x))));
    const bx = i % blocksWide;
    const by = Math.floor(i / blocksWide);
    for (const [dx, dy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ])
      data[(by * 2 + dy!) * yStride + bx * 2 + dx!] = y!;
    data[uOffset + by * cStride + bx] = u!;
    data[vOffset + by * cStride + bx] = v!;
  });
  const picture: Yuv420Picture = {
    format: 'I420',
    width,
    height,
    data,
    layout: [
      { offset: 0, stride: yStride },
      { offset: uOffset, stride: cStride },
      { offset: vOffset, stride: cStride },
    ],
  };
  return picture;
}

function randomColours(n: number, seed: number): [number, number, number][] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), Math.floor((s / 2 ** 31) * 256));
  return Array.from({ length: n }, () => [next(), next(), next()]);
}

describe('yuv420ToRgba', () => {
  for (const matrix of ['bt601', 'bt709', 'bt2020'] as const)
    for (const fullRange of [false, true])
      it(`inverts the ${matrix} ${fullRange ? 'full' : 'limited'}-range matrix within a level (2x2 blocks, padded rows)`, () => {
        const colours: [number, number, number][] = [
          [255, 255, 255],
          [0, 0, 0],
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
          [128, 128, 128],
          ...randomColours(58, 7),
        ];
        const picture = blocks(colours, 8, matrix, fullRange, 3);
        const rgba = yuv420ToRgba(picture, matrix, fullRange);
        expect(rgba).toHaveLength(picture.width * picture.height * 4);
        let worst = 0;
        colours.forEach((rgb, i) => {
          const x = (i % 8) * 2 + 1;
          const y = Math.floor(i / 8) * 2 + 1;
          const p = (y * picture.width + x) * 4;
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rgba[p + c]! - rgb[c]!));
          expect(rgba[p + 3]).toBe(255);
        });
        // Rounding Y, U and V to 8-bit codes costs at most a level or two in RGB.
        expect(worst).toBeLessThanOrEqual(2);
      });

  it("converts odd sizes: the last column and row use their block's chroma sample", () => {
    const even = blocks(randomColours(6, 11), 3, 'bt601', false);
    // The same planes read as 5x3: luma rows keep their stride, chroma is ceil(5/2) x ceil(3/2).
    const odd: Yuv420Picture = { ...even, width: 5, height: 3 };
    const a = yuv420ToRgba(odd, 'bt601', false);
    const b = yuv420ToRgba(even, 'bt601', false);
    for (let y = 0; y < 3; y++) expect(a.subarray(y * 5 * 4, (y + 1) * 5 * 4)).toEqual(b.subarray(y * 6 * 4, y * 6 * 4 + 5 * 4));
  });

  it('reads NV12 (interleaved UV) as it reads I420', () => {
    const i420 = blocks(randomColours(12, 3), 4, 'bt709', false);
    const { width, height, data, layout } = i420;
    const cSize = (width / 2) * (height / 2);
    const nv12 = new Uint8Array(width * height + 2 * cSize);
    nv12.set(data.subarray(0, width * height));
    for (let k = 0; k < cSize; k++) {
      nv12[width * height + 2 * k] = data[layout[1]!.offset + k]!;
      nv12[width * height + 2 * k + 1] = data[layout[2]!.offset + k]!;
    }
    const picture: Yuv420Picture = {
      format: 'NV12',
      width,
      height,
      data: nv12,
      layout: [
        { offset: 0, stride: width },
        { offset: width * height, stride: width },
      ],
    };
    expect(yuv420ToRgba(picture, 'bt709', false)).toEqual(yuv420ToRgba(i420, 'bt709', false));
  });

  it('gives what native ffmpeg gives (the training decoder), per pixel, on BT.709 and BT.601 pictures', () => {
    const [width, height] = [64, 48];
    for (const matrix of ['bt709', 'bt601'] as const) {
      const name = matrix === 'bt709' ? 'bt709' : 'smpte170m';
      const raw = execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${width}x${height}:rate=1`,
        '-frames:v',
        '1',
        '-vf',
        `scale=${width}:${height}:out_color_matrix=${matrix},format=yuv420p`,
        '-f',
        'rawvideo',
        '-',
      ]);
      const rgbaRef = execFileSync(
        'ffmpeg',
        [
          '-v',
          'error',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'yuv420p',
          '-s',
          `${width}x${height}`,
          '-colorspace',
          name,
          '-i',
          '-',
          '-vf',
          `scale=${width}:${height}:flags=area`,
          '-pix_fmt',
          'rgba',
          '-f',
          'rawvideo',
          '-',
        ],
        { input: raw },
      );
      const cw = Math.ceil(width / 2);
      const ch = Math.ceil(height / 2);
      const picture: Yuv420Picture = {
        format: 'I420',
        width,
        height,
        data: new Uint8Array(raw),
        layout: [
          { offset: 0, stride: width },
          { offset: width * height, stride: cw },
          { offset: width * height + cw * ch, stride: cw },
        ],
      };
      const rgba = yuv420ToRgba(picture, matrix, false);
      expect(rgba.length).toBe(rgbaRef.length);
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < rgba.length; i++) {
        const d = Math.abs(rgba[i]! - rgbaRef[i]!);
        worst = Math.max(worst, d);
        sum += d;
      }
      expect(worst, matrix).toBeLessThanOrEqual(3);
      expect(sum / rgba.length, matrix).toBeLessThan(0.75);
    }
  });
});

describe('ycbcrMatrix', () => {
  it('maps WebCodecs matrix names and refuses the ones it does not convert', () => {
    expect(ycbcrMatrix('bt709')).toBe('bt709');
    expect(ycbcrMatrix('smpte170m')).toBe('bt601');
    expect(ycbcrMatrix('bt470bg')).toBe('bt601');
    expect(ycbcrMatrix('bt2020-ncl')).toBe('bt2020');
    expect(ycbcrMatrix('rgb')).toBeNull();
    expect(ycbcrMatrix(null)).toBeNull();
  });
});
