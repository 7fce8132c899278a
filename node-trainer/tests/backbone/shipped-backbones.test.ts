/**
 * The backbones the site ships: converting afresh from nsfwjs (or, for picture-stats, building) gives byte-identical files (same
 * sha256 as the committed files and their manifest entries), and the 8-bit files match TF.js on
 * real images (MobileNetV2 1.0 with its style taps: embedding and tap statistics).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest.ts';
import { convertBackbone, parityBatch } from '../../src/backbone/import-backbone.ts';
import { compareEmbeddings, runOnnx, runTfjs } from '../../src/backbone/parity.ts';
import { PICTURE_STATS_DIM } from '../../src/backbone/picture-stats.ts';
import { loadTfjsModel } from '../../src/backbone/tfjs-source.ts';

const MODELS = fileURLToPath(new URL('../../../public/models/', import.meta.url));
const manifest = parseManifest(JSON.parse(readFileSync(`${MODELS}manifest.json`, 'utf8')));
const TAPS = ['block_3_expand_relu', 'block_6_expand_relu', 'block_10_expand_relu', 'block_13_expand_relu'];
const SHIPPED = [
  // 1280 + 2 x (144 + 192 + 384 + 576) channels: the embedding, then each tap's means and stds.
  { id: 'mobilenet-v2-1.0-taps', source: 'nsfwjs/dist/models/mobilenet_v2', dim: 3872, taps: TAPS },
  { id: 'mobilenet-v2-1.4', source: 'nsfwjs/dist/models/mobilenet_v2_mid', dim: 1792, taps: [] },
];
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(SHIPPED)('shipped backbone $id', ({ id, source, dim, taps }) => {
  const entry = manifest.backbones.find((b) => b.id === id)!;

  it('has a manifest entry that matches the committed file', () => {
    expect(entry).toBeDefined();
    const bytes = readFileSync(`${MODELS}${entry.file}`);
    expect(sha256(bytes)).toBe(entry.sha256);
    expect(bytes.length).toBe(entry.bytes);
    expect(entry.output).toEqual({ name: 'embedding', dim });
    expect(entry.quantization).toBe('uint8');
    expect(entry.parity!.meanCosine).toBeGreaterThanOrEqual(0.999);
  });

  it('converts afresh to the same bytes (deterministic)', async () => {
    const { bytes } = await convertBackbone({ from: 'tfjs', source, id, out: '/unused', quantize: 'uint8', taps });
    expect(sha256(bytes)).toBe(entry.sha256);
    // And once more in the same process: no hidden state.
    const again = await convertBackbone({ from: 'tfjs', source, id, out: '/unused', quantize: 'uint8', taps });
    expect(sha256(again.bytes)).toBe(entry.sha256);
  });

  it('matches TF.js on real images (8-bit weights: cosine >= 0.999)', async () => {
    const spec = { ...entry.input };
    const { batch, dims, count } = parityBatch(spec);
    expect(count).toBeGreaterThanOrEqual(5);
    const model = loadTfjsModel(source);
    const embeddingNode = (await convertBackbone({ from: 'tfjs', source, id, out: '/unused', quantize: 'none', taps })).prepared
      .embeddingNode;
    const ref = await runTfjs(model, embeddingNode, batch, dims, taps);
    const got = await runOnnx(readFileSync(`${MODELS}${entry.file}`), 'frames', 'embedding', batch, dims);
    expect(got.length).toBe(count * dim);
    const stats = compareEmbeddings(ref, got, dim);
    expect(stats.minCosine).toBeGreaterThanOrEqual(0.999);
    expect(stats.maxAbsDiff).toBeLessThan(0.01);
    // The embeddings carry information: different images give clearly different vectors.
    const a = got.subarray(0, dim);
    const b = got.subarray(dim, 2 * dim);
    expect(compareEmbeddings(a, b, dim).meanCosine).toBeLessThan(0.99);
  });
});

describe('shipped backbone picture-stats', () => {
  const entry = manifest.backbones.find((b) => b.id === 'picture-stats')!;

  it('has a manifest entry that matches the committed file, and converts afresh to the same bytes', async () => {
    const bytes = readFileSync(`${MODELS}${entry.file}`);
    expect(sha256(bytes)).toBe(entry.sha256);
    expect(bytes.length).toBe(entry.bytes);
    expect(entry.output).toEqual({ name: 'embedding', dim: PICTURE_STATS_DIM });
    const { bytes: fresh } = await convertBackbone({
      from: 'picture-stats',
      source: '',
      id: 'picture-stats',
      out: '/unused',
      quantize: 'none',
    });
    expect(sha256(fresh)).toBe(entry.sha256);
  });
});
