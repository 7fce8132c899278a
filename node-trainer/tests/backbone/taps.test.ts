/**
 * `import-backbone --taps`: the exported `embedding` is the plain embedding followed, per tap, by the
 * spatial mean and std of that intermediate feature map. Checked against the plain import (same
 * first D values) and against statistics pooled here, in the test, from the plain model's own
 * intermediate values; on nsfwjs's MobileNetV2 1.0 (TF.js) and on a small ONNX CNN (opset 17 and 18).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertBackbone, importBackbone, parityBatch } from '../../src/backbone/import-backbone.ts';
import { attr, decodeModel, encodeModel, node, onnx, type Graph } from '../../src/backbone/onnx-graph.ts';
import { storeWeights } from '../../src/backbone/quantize.ts';
import { weights } from './random-weights.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'vidkind-taps-'));

/** Runs ONNX bytes on a batch, returning the named outputs with their shapes. */
async function run(bytes: Uint8Array, input: string, outputs: string[], batch: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const y = await session.run({ [input]: new ort.Tensor('float32', batch, dims) }, outputs);
    return outputs.map((o) => ({ data: y[o]!.data as Float32Array, dims: y[o]!.dims as number[] }));
  } finally {
    await session.release();
  }
}

/** The same model with intermediate values added as graph outputs. */
function exposing(bytes: Uint8Array, values: string[]): Uint8Array {
  const model = decodeModel(bytes, 'model');
  model.graph!.output!.push(...values.map((name) => onnx.ValueInfoProto.create({ name })));
  return onnx.ModelProto.encode(model).finish();
}

/** Per image and channel of an NCHW map: [means..., stds...] in float64, the plain definition. */
function poolNchw(x: { data: Float32Array; dims: number[] }, image: number): { mean: number[]; std: number[] } {
  const [, c, h, w] = x.dims as [number, number, number, number];
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const values = Array.from(x.data.subarray((image * c + ch) * h * w, (image * c + ch + 1) * h * w));
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean.push(m);
    std.push(Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length));
  }
  return { mean, std };
}

/** Largest |a - b| over two equal-length lists. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('import-backbone --taps (TF.js MobileNetV2 1.0)', () => {
  const source = 'nsfwjs/dist/models/mobilenet_v2';
  const taps = ['block_3_expand_relu', 'block_13_expand_relu'];
  const channels = [144, 576];

  it('appends each tap mean and std to the plain embedding, matching TF.js and an independent pooling', async () => {
    const out = tmp();
    const r = await importBackbone({ from: 'tfjs', source, id: 'mnv2-taps', taps, out, quantize: 'uint8', writeManifest: false });
    const dim = 1280 + 2 * (144 + 576);
    expect(r.entry.output).toEqual({ name: 'embedding', dim });
    // Parity against TF.js (taps pooled in JS over TF.js's NHWC maps), whole vector and each part.
    expect(r.parity.meanCosine).toBeGreaterThanOrEqual(0.999);
    expect(r.parity.parts!.embedding.minCosine).toBeGreaterThanOrEqual(0.999);
    expect(r.parity.parts!.taps.minCosine).toBeGreaterThanOrEqual(0.999);
    expect(r.entry.provenance.notes).toContain('block_3_expand_relu (144), block_13_expand_relu (576)');
    const meta = decodeModel(r.bytes, 'tapped').metadataProps ?? [];
    expect(meta.find((p) => p.key === 'vidkind.backbone.taps')?.value).toBe(taps.join(','));

    const { batch, dims, count } = parityBatch({ ...r.entry.input });
    const [tapped] = await run(r.bytes, 'frames', ['embedding'], batch, dims);
    expect(tapped!.dims).toEqual([count, dim]);
    const plain = await convertBackbone({ from: 'tfjs', source, id: 'mnv2-plain', out, quantize: 'uint8' });
    const [emb, ...maps] = await run(exposing(plain.bytes, taps), 'frames', ['embedding', ...taps], batch, dims);
    expect(emb!.dims).toEqual([count, 1280]);
    maps.forEach((m, i) => expect(m.dims.slice(0, 2)).toEqual([count, channels[i]]));
    for (let n = 0; n < count; n++) {
      const row = tapped!.data.subarray(n * dim, (n + 1) * dim);
      // (b) the first 1280 values are the plain import's embedding.
      expect(maxDiff(row.subarray(0, 1280), emb!.data.subarray(n * 1280, (n + 1) * 1280))).toBeLessThan(1e-5);
      // (c) then, per tap, mean then std of the plain model's own intermediate map.
      let o = 1280;
      for (const m of maps) {
        const { mean, std } = poolNchw(m, n);
        expect(maxDiff(row.subarray(o, o + mean.length), mean)).toBeLessThan(1e-4);
        expect(maxDiff(row.subarray(o + mean.length, o + 2 * mean.length), std)).toBeLessThan(1e-4);
        // The statistics carry information: some spread across channels, no all-zero std.
        expect(Math.max(...std)).toBeGreaterThan(0.01);
        o += 2 * mean.length;
      }
    }
  });

  it('converts deterministically with taps', async () => {
    const a = await convertBackbone({ from: 'tfjs', source, id: 'mnv2-taps', taps, out: '/unused', quantize: 'uint8' });
    const b = await convertBackbone({ from: 'tfjs', source, id: 'mnv2-taps', taps, out: '/unused', quantize: 'uint8' });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });

  it('names an unknown tap, a tap that is not a feature map, and a repeated tap', async () => {
    const o = { from: 'tfjs', source, id: 'x', out: '/unused', quantize: 'uint8' } as const;
    await expect(convertBackbone({ ...o, taps: ['block_3_expand_relu', 'block_99_relu'] })).rejects.toThrow(
      /No layer named "block_99_relu" for --taps \(layers: .*block_3_expand_relu, /,
    );
    await expect(convertBackbone({ ...o, taps: ['dense_1'] })).rejects.toThrow(
      /tap layer "dense_1" is of shape \[-1, 256\], not a feature map/,
    );
    await expect(convertBackbone({ ...o, taps: ['Conv1_relu', 'Conv1_relu'] })).rejects.toThrow(/--taps names "Conv1_relu" twice/);
  });
});

/** A torchvision-like little CNN, NCHW [N,3,64,64] -> [N,32], at the given opset. */
function smallCnn(opset: number): Uint8Array {
  const conv = (x: string, w: string, b: string, y: string) =>
    node('Conv', [x, w, b], [y], y, [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])]);
  const g: Graph = {
    name: 'torch_jit',
    input: { name: 'input.1', dims: ['batch', 3, 64, 64] },
    outputs: [{ name: 'features', dims: ['batch', 32] }],
    nodes: [
      conv('input.1', 'c1.w', 'c1.b', 'c1'),
      node('Relu', ['c1'], ['r1'], 'r1'),
      conv('r1', 'c2.w', 'c2.b', 'c2'),
      node('Relu', ['c2'], ['r2'], 'r2'),
      node('GlobalAveragePool', ['r2'], ['pooled'], 'gap'),
      node('Flatten', ['pooled'], ['features'], 'flatten', [attr.int('axis', 1)]),
    ],
    weights: [weights('c1.w', [16, 3, 3, 3], 1), weights('c1.b', [16], 2), weights('c2.w', [32, 16, 3, 3], 3), weights('c2.b', [32], 4)],
    constants: [],
    opsetImports: [{ domain: '', version: opset }],
  };
  const stored = storeWeights(g.weights, 'none');
  return encodeModel(g, stored.initializers, stored.nodes, {});
}

describe.each([17, 18])('import-backbone --taps (ONNX source, opset %i)', (opset) => {
  it('appends the NCHW taps statistics, checked against the fp32 source', async () => {
    const dir = tmp();
    const source = join(dir, 'small.onnx');
    const sourceBytes = smallCnn(opset);
    writeFileSync(source, sourceBytes);
    const r = await importBackbone({
      from: 'onnx',
      source,
      id: 'small-taps',
      taps: ['c2', 'r1'],
      out: join(dir, 'backbones'),
      quantize: 'none',
      writeManifest: false,
    });
    expect(r.entry.output.dim).toBe(32 + 2 * (32 + 16));
    expect(r.parity.meanCosine).toBeGreaterThanOrEqual(0.99999);
    expect(r.parity.parts!.taps.maxAbsDiff).toBeLessThan(1e-5);

    const { batch, dims, count } = parityBatch({ ...r.entry.input });
    const [tapped] = await run(r.bytes, 'frames', ['embedding'], batch, dims);
    const [features, c2, r1] = await run(exposing(sourceBytes, ['c2', 'r1']), 'input.1', ['features', 'c2', 'r1'], batch, dims);
    for (let n = 0; n < count; n++) {
      const row = tapped!.data.subarray(n * 128, (n + 1) * 128);
      const a = poolNchw(c2!, n);
      const b = poolNchw(r1!, n);
      expect(maxDiff(row, [...features!.data.subarray(n * 32, (n + 1) * 32), ...a.mean, ...a.std, ...b.mean, ...b.std])).toBeLessThan(1e-5);
    }
  });

  it('names an unknown value and a value that is not a feature map', async () => {
    const dir = tmp();
    const source = join(dir, 'small.onnx');
    writeFileSync(source, smallCnn(opset));
    const o = { from: 'onnx', source, id: 'x', out: dir, quantize: 'none' } as const;
    await expect(convertBackbone({ ...o, taps: ['r9'] })).rejects.toThrow(/no value named "r9" for --taps \(values: c1, r1, c2, r2, /);
    await expect(convertBackbone({ ...o, taps: ['features'] })).rejects.toThrow(/tap "features" has shape \[1, 32\], not a feature map/);
  });
});
