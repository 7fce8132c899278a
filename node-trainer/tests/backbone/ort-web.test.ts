/**
 * The shipped backbones give the same embeddings in onnxruntime-web (WASM, as in the browser's
 * fallback path) as in onnxruntime-node, on real images preprocessed by src/core.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest.ts';
import { parityBatch } from '../../src/backbone/import-backbone.ts';
import { compareEmbeddings, runOnnx } from '../../src/backbone/parity.ts';

const MODELS = fileURLToPath(new URL('../../../public/models/', import.meta.url));
const manifest = parseManifest(JSON.parse(readFileSync(`${MODELS}manifest.json`, 'utf8')));
ortWeb.env.wasm.numThreads = 1;

describe.each(manifest.backbones.map((b) => b.id))('%s in onnxruntime-web (WASM)', (id) => {
  it('matches onnxruntime-node within 1e-4', async () => {
    const entry = manifest.backbones.find((b) => b.id === id)!;
    const bytes = new Uint8Array(readFileSync(`${MODELS}${entry.file}`));
    // Two frames keep the WASM run short; the batch dimension is still exercised.
    const { batch: all } = parityBatch(entry.input);
    const size = entry.input.width * entry.input.height * 3;
    const batch = all.slice(0, 2 * size);
    const dims = [2, entry.input.height, entry.input.width, 3];
    const node = await runOnnx(bytes, entry.input.name, entry.output.name, batch, dims);
    const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const out = await session.run({ [entry.input.name]: new ortWeb.Tensor('float32', batch, dims) });
    await session.release();
    const web = out[entry.output.name]!;
    expect(web.dims).toEqual([2, entry.output.dim]);
    const stats = compareEmbeddings(node, web.data as Float32Array, entry.output.dim);
    expect(stats.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(stats.minCosine).toBeGreaterThan(0.99999);
  });
});
