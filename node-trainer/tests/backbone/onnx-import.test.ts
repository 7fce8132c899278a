/**
 * `--from onnx`: a channels-first export (as torch.onnx.export writes) is cut at the chosen output,
 * renamed to frames -> embedding, stored 8-bit / fp16, checked against the fp32 source, and its
 * manifest entry written. Built here from a small seeded CNN, so the test needs no PyTorch.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/core/manifest.ts';
import { importBackbone } from '../../src/backbone/import-backbone.ts';
import { attr, encodeModel, node, type Graph } from '../../src/backbone/onnx-graph.ts';
import { storeWeights } from '../../src/backbone/quantize.ts';
import { weights } from './random-weights.ts';

/** A torchvision-like little CNN: NCHW [N,3,64,64] -> pooled [N,32,1,1] and logits [N,10]. */
function torchStyleModel(extraNode?: string): Uint8Array {
  const g: Graph = {
    name: 'torch_jit',
    input: { name: 'input.1', dims: ['batch', 3, 64, 64] },
    outputs: [
      { name: 'pooled', dims: ['batch', 32, 1, 1] },
      { name: 'logits', dims: ['batch', 10] },
    ],
    nodes: [
      node('Conv', ['input.1', 'c1.w', 'c1.b'], ['c1'], 'c1', [
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('pads', [1, 1, 1, 1]),
        attr.ints('strides', [2, 2]),
      ]),
      node('Relu', ['c1'], ['r1'], 'r1'),
      node('Conv', ['r1', 'c2.w', 'c2.b'], ['c2'], 'c2', [
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('pads', [1, 1, 1, 1]),
        attr.ints('strides', [2, 2]),
      ]),
      node(extraNode ?? 'Relu', ['c2'], ['r2'], 'r2'),
      node('GlobalAveragePool', ['r2'], ['pooled'], 'gap'),
      node('Flatten', ['pooled'], ['flat'], 'flatten', [attr.int('axis', 1)]),
      node('Gemm', ['flat', 'fc.w', 'fc.b'], ['logits'], 'fc', [attr.int('transB', 1)]),
    ],
    weights: [
      weights('c1.w', [16, 3, 3, 3], 1),
      weights('c1.b', [16], 2),
      weights('c2.w', [32, 16, 3, 3], 3),
      weights('c2.b', [32], 4),
      weights('fc.w', [10, 32], 5),
      weights('fc.b', [10], 6),
    ],
    constants: [],
  };
  const stored = storeWeights(g.weights, 'none');
  return encodeModel(g, stored.initializers, stored.nodes, {});
}

describe('import-backbone --from onnx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vidkind-onnx-import-'));
  const source = join(dir, 'tiny-cnn.onnx');
  writeFileSync(source, torchStyleModel());
  const out = join(dir, 'models', 'backbones');

  it('asks for --embedding when the model has several outputs', async () => {
    await expect(importBackbone({ from: 'onnx', source, id: 'tiny', out, quantize: 'uint8' })).rejects.toThrow(/--embedding/);
  });

  it.each([
    ['uint8', 0.999],
    ['int8', 0.999],
    ['fp16', 0.99999],
  ] as const)('imports with %s weights (cosine >= %s) and writes a valid manifest entry', async (quantize, minCos) => {
    const r = await importBackbone({ from: 'onnx', source, id: `tiny-${quantize}`, embedding: 'pooled', out, quantize });
    expect(r.parity.meanCosine).toBeGreaterThanOrEqual(minCos);
    expect(r.parity.reference).toMatch(/onnx fp32/);
    expect(r.entry.input).toMatchObject({
      name: 'frames',
      width: 64,
      height: 64,
      layout: 'NCHW',
      range: [0, 1],
      mean: [0.485, 0.456, 0.406],
    });
    expect(r.entry.output).toEqual({ name: 'embedding', dim: 32 });
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'models', 'manifest.json'), 'utf8')));
    expect(manifest.backbones.find((b) => b.id === `tiny-${quantize}`)?.file).toBe(`backbones/tiny-${quantize}.onnx`);
    // The written file has one input `frames` and one output `embedding` [N, D].
    const session = await ort.InferenceSession.create(readFileSync(r.file));
    expect(session.inputNames).toEqual(['frames']);
    expect(session.outputNames).toEqual(['embedding']);
    const y = await session.run({ frames: new ort.Tensor('float32', new Float32Array(3 * 3 * 64 * 64).fill(0.2), [3, 3, 64, 64]) });
    expect(y.embedding!.dims).toEqual([3, 32]);
  });

  it('stores 8-bit weights compactly and deterministically', async () => {
    const a = await importBackbone({
      from: 'onnx',
      source,
      id: 'tiny-a',
      embedding: 'pooled',
      out,
      quantize: 'uint8',
      writeManifest: false,
    });
    const b = await importBackbone({
      from: 'onnx',
      source,
      id: 'tiny-a',
      embedding: 'pooled',
      out,
      quantize: 'uint8',
      writeManifest: false,
    });
    expect(a.entry.sha256).toBe(b.entry.sha256);
    const fp32 = await importBackbone({
      from: 'onnx',
      source,
      id: 'tiny-f',
      embedding: 'pooled',
      out,
      quantize: 'none',
      writeManifest: false,
    });
    expect(a.bytes.length).toBeLessThan(fp32.bytes.length * 0.6);
  });
});
