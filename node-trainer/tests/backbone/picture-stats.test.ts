/**
 * The picture-statistics backbone: its ONNX graph in onnxruntime-node against the plain-loop
 * reference on real photographs, known answers on drawn frames (a flat colour, a vertical edge,
 * horizontal stripes, a noisy grey, greys on the thresholds' ramps), the input normalisation
 * undone, and `import-backbone --from picture-stats` writing a backbone that the manifest accepts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BackboneEntrySchema } from '../../../src/core/manifest.ts';
import { frameTensorSize, frameToTensor, type InputSpec, type RgbaFrame } from '../../../src/core/preprocess.ts';
import { convertBackbone, importBackbone, parityBatch } from '../../src/backbone/import-backbone.ts';
import { encodeModel } from '../../src/backbone/onnx-graph.ts';
import {
  PICTURE_STATS,
  PICTURE_STATS_DIM,
  PICTURE_STATS_SPEC,
  pictureStatsGraph,
  pictureStatsReference,
} from '../../src/backbone/picture-stats.ts';

async function runGraph(spec: InputSpec, batch: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(pictureStatsGraph(spec), [], [], {}));
  try {
    const dims = spec.layout === 'NHWC' ? [n, spec.height, spec.width, 3] : [n, 3, spec.height, spec.width];
    const y = await session.run({ frames: new ort.Tensor('float32', batch, dims) });
    expect(y.embedding!.dims).toEqual([n, PICTURE_STATS_DIM]);
    return y.embedding!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** A 224x224 RGBA frame drawn by `paint(x, y) -> [r, g, b]`. */
function draw(paint: (x: number, y: number) => [number, number, number], size = 224): RgbaFrame {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const [r, g, b] = paint(x, y);
      data.set([r, g, b, 255], (y * size + x) * 4);
    }
  return { width: size, height: size, data };
}

function batchOf(frames: RgbaFrame[], spec: InputSpec = PICTURE_STATS_SPEC): Float32Array {
  const batch = new Float32Array(frames.length * frameTensorSize(spec));
  frames.forEach((f, i) => frameToTensor(f, spec, {}, batch, i));
  return batch;
}

const stat = (row: Float32Array, i: number, name: (typeof PICTURE_STATS)[number]) =>
  row[i * PICTURE_STATS_DIM + PICTURE_STATS.indexOf(name)]!;
const grid = (row: Float32Array, i: number) =>
  Array.from(row.subarray(i * PICTURE_STATS_DIM + PICTURE_STATS_DIM - 9, (i + 1) * PICTURE_STATS_DIM));

describe('picture statistics backbone', () => {
  it('matches the plain-loop reference on real photographs and a document page', async () => {
    const { batch, count } = parityBatch(PICTURE_STATS_SPEC);
    const got = await runGraph(PICTURE_STATS_SPEC, batch, count);
    const ref = pictureStatsReference(batch, count);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - ref[i]!), PICTURE_STATS[i % PICTURE_STATS_DIM]).toBeLessThan(1e-4);
    // Real pictures differ: the statistics are not constant over the images.
    const first = got.subarray(0, PICTURE_STATS_DIM);
    expect(
      Array.from({ length: count - 1 }, (_, i) => got.subarray((i + 1) * PICTURE_STATS_DIM, (i + 2) * PICTURE_STATS_DIM)).some((r) =>
        r.some((v, k) => Math.abs(v - first[k]!) > 0.05),
      ),
    ).toBe(true);
  });

  it('gives the known answers on drawn frames', async () => {
    const frames = [
      draw(() => [255, 0, 0]),
      draw((x) => (x < 112 ? [0, 0, 0] : [255, 255, 255])),
      draw((_, y) => (Math.floor(y / 8) % 2 ? [40, 40, 40] : [220, 220, 220])),
      // A seeded noisy grey: camera-like texture, no edges to speak of.
      draw((x, y) => {
        const v = 128 + ((((x * 73856093) ^ (y * 19349663)) >>> 0) % 3) - 1;
        return [v, v, v];
      }),
    ];
    const batch = batchOf(frames);
    const got = await runGraph(PICTURE_STATS_SPEC, batch, frames.length);
    const ref = pictureStatsReference(batch, frames.length);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - ref[i]!), PICTURE_STATS[i % PICTURE_STATS_DIM]).toBeLessThan(1e-4);

    // Flat red: saturated and bright everywhere, no edges, one colour.
    expect(stat(got, 0, 'saturation mean')).toBeCloseTo(1, 5);
    expect(stat(got, 0, 'share of saturation >= 0.75')).toBe(1);
    expect(stat(got, 0, 'share of value > 0.9 (bright)')).toBe(1);
    expect(stat(got, 0, 'share of flat pixels (gradient < 8/255)')).toBe(1);
    expect(stat(got, 0, 'share of strong edges (gradient > 100/255)')).toBe(0);
    expect(stat(got, 0, 'colour entropy (64 colours, nats)')).toBeCloseTo(0, 6);
    expect(stat(got, 0, 'share of the most common colour')).toBe(1);
    expect(grid(got, 0).every((v) => Math.abs(v) < 1e-6)).toBe(true);

    // Black | white: half dark, half bright, two equal colours, every strong edge vertical, all in the middle column of the grid.
    expect(stat(got, 1, 'share of value < 0.1 (dark)')).toBeCloseTo(0.5, 5);
    expect(stat(got, 1, 'share of value > 0.9 (bright)')).toBeCloseTo(0.5, 5);
    expect(stat(got, 1, 'colour entropy (64 colours, nats)')).toBeCloseTo(Math.log(2), 5);
    expect(stat(got, 1, 'share of the 4 most common colours')).toBeCloseTo(1, 5);
    expect(stat(got, 1, 'share of strong edges (gradient > 100/255)')).toBeCloseTo(2 / 222, 5);
    expect(stat(got, 1, 'share of strong edges that are vertical')).toBeCloseTo(1, 3);
    expect(stat(got, 1, 'share of strong edges that are horizontal')).toBe(0);
    const g1 = grid(got, 1);
    expect(g1.filter((_, k) => k % 3 === 1).every((v) => v > 0)).toBe(true);
    expect(g1.filter((_, k) => k % 3 !== 1).every((v) => Math.abs(v) < 1e-6)).toBe(true);

    // Horizontal stripes: grey (no saturation), every strong edge horizontal.
    expect(stat(got, 2, 'saturation mean')).toBeCloseTo(0, 5);
    expect(stat(got, 2, 'share of saturation < 0.25')).toBe(1);
    expect(stat(got, 2, 'share of strong edges that are horizontal')).toBeCloseTo(1, 3);
    expect(stat(got, 2, 'share of strong edges that are vertical')).toBe(0);

    // Noisy grey (+-1 level): mostly flat, no strong edges, with noise in the flat regions that the clean drawings lack.
    expect(stat(got, 3, 'share of flat pixels (gradient < 8/255)')).toBeGreaterThan(0.8);
    expect(stat(got, 3, 'share of strong edges (gradient > 100/255)')).toBe(0);
    expect(stat(got, 3, 'noise: mean |Laplacian| over flat pixels')).toBeGreaterThan(1 / 255);
    expect(stat(got, 1, 'noise: mean |Laplacian| over flat pixels')).toBeLessThan(1e-6);
  });

  it('counts a pixel near a threshold in part (a ramp a few levels wide), so a level more or less moves a statistic a little', async () => {
    // Greys around the dark threshold (0.1 = level 25.5; ramp 2 levels wide) and the first palette boundary (0.25 = level 63.75).
    const levels = [23, 25, 26, 28, 64];
    const frames = levels.map((l) => draw(() => [l, l, l]));
    const batch = batchOf(frames);
    const got = await runGraph(PICTURE_STATS_SPEC, batch, frames.length);
    const ref = pictureStatsReference(batch, frames.length);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - ref[i]!), PICTURE_STATS[i % PICTURE_STATS_DIM]).toBeLessThan(1e-5);
    const dark = levels.map((_, i) => stat(got, i, 'share of value < 0.1 (dark)'));
    expect(dark[0]).toBe(1);
    expect(dark[1]).toBeCloseTo(0.75, 4);
    expect(dark[2]).toBeCloseTo(0.25, 4);
    expect(dark[3]).toBe(0);
    // Level 64 is 0.25 levels past the boundary: 5/8 of each channel on the upper level, so the
    // most common of the 8 colours it is shared between holds (5/8)^3 of the picture.
    expect(stat(got, 4, 'share of the most common colour')).toBeCloseTo((5 / 8) ** 3, 4);
    expect(stat(got, 4, 'share of the 4 most common colours')).toBeCloseTo((5 / 8) ** 3 + 3 * (5 / 8) ** 2 * (3 / 8), 4);
  });

  it('undoes the input normalisation: the same frames fed NCHW with ImageNet mean/std give the same statistics', async () => {
    const frames = [draw((x, y) => [x, y, 255 - x]), draw((x, y) => [(x * y) % 256, 90, y])];
    const plain = await runGraph(PICTURE_STATS_SPEC, batchOf(frames), 2);
    const spec: InputSpec = {
      width: 224,
      height: 224,
      layout: 'NCHW',
      range: [0, 1],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    };
    const normalised = await runGraph(spec, batchOf(frames, spec), 2);
    for (let i = 0; i < plain.length; i++) expect(normalised[i]!).toBeCloseTo(plain[i]!, 3);
  });

  it('is written by import-backbone --from picture-stats, deterministically, with a valid manifest entry', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vidkind-picture-stats-'));
    const lines: string[] = [];
    const r = await importBackbone(
      { from: 'picture-stats', source: '', id: 'picture-stats', out, quantize: 'none', writeManifest: false },
      (l) => lines.push(l),
    );
    expect(BackboneEntrySchema.parse(r.entry)).toMatchObject({
      id: 'picture-stats',
      output: { name: 'embedding', dim: PICTURE_STATS_DIM },
      input: { width: 224, height: 224, layout: 'NHWC' },
    });
    expect(r.parity.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.entry.provenance.notes).toContain('share of strong edges that are horizontal');
    expect(Buffer.compare(readFileSync(r.file), Buffer.from(r.bytes))).toBe(0);
    expect(lines.join('\n')).toMatch(/parity vs picture statistics/);
    const again = await convertBackbone({ from: 'picture-stats', source: '', id: 'picture-stats', out, quantize: 'none' });
    expect(Buffer.compare(Buffer.from(again.bytes), Buffer.from(r.bytes))).toBe(0);
    await expect(convertBackbone({ from: 'picture-stats', source: '', id: 'x', out, quantize: 'none', taps: ['a'] })).rejects.toThrow(
      /--taps does not apply/,
    );
  });
});
