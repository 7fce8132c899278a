/**
 * Converter coverage beyond MobileNet: nsfwjs's Inception V3 (Keras layers: Concatenate,
 * MaxPooling2D, Activation, BatchNormalization without scale, 299x299 input) converts and matches
 * TF.js on a real image.
 */
import { describe, expect, it } from 'vitest';
import { parityBatch } from '../../src/backbone/import-backbone.ts';
import { encodeModel } from '../../src/backbone/onnx-graph.ts';
import { compareEmbeddings, runOnnx, runTfjs } from '../../src/backbone/parity.ts';
import { storeWeights } from '../../src/backbone/quantize.ts';
import { loadTfjsModel } from '../../src/backbone/tfjs-source.ts';
import { tfjsToOnnx } from '../../src/backbone/tfjs-to-onnx.ts';

describe('Inception V3 (nsfwjs)', () => {
  it('converts to a 2048-d backbone that matches TF.js (8-bit weights)', async () => {
    const model = loadTfjsModel('nsfwjs/dist/models/inception_v3');
    const converted = tfjsToOnnx(model);
    expect(converted.inputSize).toEqual({ width: 299, height: 299 });
    expect(converted.dim).toBe(2048);
    const stored = storeWeights(converted.graph.weights, 'uint8');
    const bytes = encodeModel(converted.graph, stored.initializers, stored.nodes, {});
    const { batch } = parityBatch({ width: 299, height: 299, layout: 'NHWC', range: [0, 1] });
    const one = batch.slice(0, 299 * 299 * 3);
    const dims = [1, 299, 299, 3];
    const [ref, got] = await Promise.all([
      runTfjs(model, converted.embeddingNode, one, dims),
      runOnnx(bytes, 'frames', 'embedding', one, dims),
    ]);
    const stats = compareEmbeddings(ref, got, 2048);
    expect(stats.meanCosine).toBeGreaterThanOrEqual(0.999);
    expect(stats.maxAbsDiff).toBeLessThan(0.01);
  });
});
