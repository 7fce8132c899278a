/**
 * Backbone benchmark: for each shipped backbone and each weight quantisation, size on disk, gzipped
 * size, session creation time and ms/frame in onnxruntime-node. Prints one JSON object per line.
 *
 *   npx tsx node-trainer/bench/backbones.ts [--ids mobilenet-v2-1.0,mobilenet-v2-1.4]
 *     [--quantize none,uint8,int8,fp16] [--batch 1] [--runs 20] [--threads 0] [--out-dir DIR]
 *
 * Variants other than the shipped one are converted afresh from the manifest's provenance (TF.js
 * sources) in memory; --out-dir also writes them as <id>.<quantization>.onnx (e.g. for a browser run).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { parseManifest, type BackboneEntry } from '../../src/core/manifest.ts';
import { convertBackbone, parityBatch } from '../src/backbone/import-backbone.ts';
import { QUANTIZATIONS, type Quantization } from '../src/backbone/quantize.ts';

const MODELS = fileURLToPath(new URL('../../public/models/', import.meta.url));

const { values: args } = parseArgs({
  options: {
    ids: { type: 'string' },
    quantize: { type: 'string', default: QUANTIZATIONS.join(',') },
    batch: { type: 'string', default: '1' },
    runs: { type: 'string', default: '20' },
    threads: { type: 'string', default: '0' },
    'out-dir': { type: 'string' },
  },
});

async function modelBytes(entry: BackboneEntry, q: Quantization): Promise<Uint8Array> {
  if (q === entry.quantization) return new Uint8Array(readFileSync(join(MODELS, entry.file)));
  const p = entry.provenance;
  if (p.source !== 'tfjs' || !p.package || !p.path) throw new Error(`${entry.id}: cannot re-convert (source ${p.source})`);
  const { bytes } = await convertBackbone({ from: 'tfjs', source: `${p.package}/${p.path}`, id: entry.id, out: '/unused', quantize: q });
  return bytes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const manifest = parseManifest(JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8')));
const ids = args.ids ? args.ids.split(',') : manifest.backbones.filter((b) => !b.testModel).map((b) => b.id);
const quantizations = args.quantize!.split(',') as Quantization[];
const batch = Number(args.batch);
const runs = Number(args.runs);
const threads = Number(args.threads);

for (const id of ids) {
  const entry = manifest.backbones.find((b) => b.id === id);
  if (!entry) throw new Error(`no backbone "${id}" in the manifest`);
  const { batch: frames } = parityBatch(entry.input);
  const size = entry.input.width * entry.input.height * 3;
  const input = new Float32Array(batch * size);
  for (let i = 0; i < batch; i++)
    input.set(frames.subarray((i % (frames.length / size)) * size, ((i % (frames.length / size)) + 1) * size), i * size);
  const dims =
    entry.input.layout === 'NHWC' ? [batch, entry.input.height, entry.input.width, 3] : [batch, 3, entry.input.height, entry.input.width];
  for (const q of quantizations) {
    const bytes = await modelBytes(entry, q);
    if (args['out-dir']) {
      mkdirSync(args['out-dir'], { recursive: true });
      writeFileSync(join(args['out-dir'], `${id}.${q}.onnx`), bytes);
    }
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    });
    const sessionMs = performance.now() - t0;
    const feeds = { [entry.input.name]: new ort.Tensor('float32', input, dims) };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    await session.release();
    console.log(
      JSON.stringify({
        bench: 'backbone',
        id,
        quantization: q,
        shipped: q === entry.quantization,
        runtime: 'onnxruntime-node',
        dim: entry.output.dim,
        bytes: bytes.length,
        gzipBytes: gzipSync(bytes, { level: 9 }).length,
        sessionMs: Math.round(sessionMs),
        batch,
        threads: threads || 'default',
        runs,
        msPerFrame: Number((median(times) / batch).toFixed(2)),
        msPerFrameMin: Number((Math.min(...times) / batch).toFixed(2)),
      }),
    );
  }
}
