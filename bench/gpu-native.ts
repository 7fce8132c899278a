/**
 * The WebGPU provider on a real GPU, measured natively. onnxruntime-web 1.30's WebGPU build (what
 * the app's infer worker loads) is ONNX Runtime's C++ WebGPU execution provider compiled to WASM;
 * onnxruntime-node 1.30 bundles the same provider, built against Dawn (Chromium's WebGPU
 * implementation), on Linux x64. So its kernels (the same WGSL programs) run here on whatever
 * Vulkan GPU the machine has, without a browser: the bench machine has no GPU, and Chromium plus the
 * site is larger than what can be sent to a machine that has one. What this leaves out is the
 * browser's share: the provider's C++ running as WASM, and Chromium's IPC to its GPU process.
 * (onnxruntime-web itself in Node, with Dawn's `webgpu` package as navigator.gpu, failed here at
 * its first createComputePipelineAsync with "Invalid argument", on SwiftShader as on the null
 * backend, while the same build runs in Chromium; so it is not used.)
 *
 * For each provider (webgpu; cpu with 1 thread; cpu with every core) it times, on the same real
 * frames and the shipped models: session creation, the first run (kernel and pipeline compilation),
 * the backbone at batch 1 (ms per frame, as the browser-alone rows), the backbone on one clip's
 * batch (T frames x the spatial TTA views, as the app's embed call) and each head on [V, T, D].
 * Then the WebGPU outputs against the 1-thread CPU outputs of the same inputs.
 *
 *   node --import tsx bench/gpu-native.ts --frames F.rgba --width W --height H [--models DIR]
 *        [--runs N] [--sweep B,B] [--allow-fallback]
 *
 * F.rgba: T frames, raw RGBA, W x H each. One JSON line per figure. The adapter is named through
 * Dawn's `webgpu` package when it is installed; with no adapter, or only a CPU/fallback one
 * (SwiftShader), it prints {kind:'adapter', available:false} and times nothing unless
 * --allow-fallback (tests use that, on SwiftShader).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ensembleModels, parseManifest, pickEnsemble, type BackboneEntry } from '../src/core/manifest';
import { frameTensorSize, resampleRgb, rgbToTensor, type RgbaFrame } from '../src/core/preprocess';
import { stats, timeRuns } from './stats.ts';

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    models: { type: 'string', default: 'public/models' },
    runs: { type: 'string', default: '20' },
    /** More backbone batch sizes to time (frames of the clip batch, repeated as needed), e.g. 16,128. */
    sweep: { type: 'string', default: '' },
    'allow-fallback': { type: 'boolean', default: false },
  },
});
if (!args.frames || !args.width || !args.height) throw new Error('usage: --frames F.rgba --width W --height H');
const RUNS = Math.max(3, Number(args.runs));

/** The adapter Dawn offers this process, if the `webgpu` package (Dawn for Node) is installed. */
async function probeAdapter(): Promise<{ name: string | null; fallback: boolean; probed: boolean }> {
  try {
    const { create } = await import('webgpu');
    const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { name: null, fallback: false, probed: true };
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
    return { name, fallback: Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(name), probed: true };
  } catch {
    return { name: null, fallback: false, probed: false };
  }
}
const gpu = await probeAdapter();
const available = gpu.probed ? gpu.name !== null && !gpu.fallback : true;
emit({ kind: 'adapter', available, name: gpu.name, fallback: gpu.fallback, probed: gpu.probed });
if (!available && !args['allow-fallback']) process.exit(0);

const dir = resolve(args.models);
const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
const { heads, backbones } = ensembleModels(manifest, pickEnsemble(manifest));
const W = Number(args.width);
const H = Number(args.height);
const raw = readFileSync(args.frames);
const T = Math.floor(raw.length / (W * H * 4));
if (T < 1) throw new Error(`${args.frames} holds no ${W}x${H} RGBA frame`);
const frames: RgbaFrame[] = Array.from({ length: T }, (_, i) => ({
  width: W,
  height: H,
  data: new Uint8Array(raw.buffer, raw.byteOffset + i * W * H * 4, W * H * 4),
}));
// The spatial TTA views (a temporal shift samples other frames, which a fixed frame file cannot).
const views = manifest.tta.views.filter((v) => v.shift === 0);
const cores = availableParallelism();
emit({
  kind: 'machine',
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model.trim() ?? '?',
  cores,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
});
emit({ kind: 'inputs', frames: T, width: W, height: H, views: views.map((v) => v.id), cores, ort: ort.env.versions.common });

/** View-major batch [V * T] of one backbone's input, as the app's infer worker builds it. */
function clipBatch(b: BackboneEntry): ort.Tensor {
  const spec = b.input;
  const n = views.length * T;
  const data = new Float32Array(n * frameTensorSize(spec));
  views.forEach((view, v) =>
    frames.forEach((f, i) =>
      rgbToTensor(resampleRgb(f, spec.width, spec.height, { flip: view.flip, crop: view.crop }), spec, data, v * T + i),
    ),
  );
  return new ort.Tensor('float32', data, spec.layout === 'NHWC' ? [n, spec.height, spec.width, 3] : [n, 3, spec.height, spec.width]);
}
const batches = new Map(backbones.map((b) => [b.id, clipBatch(b)]));
/** `n` frames of the clip batch (repeated when n is larger). */
const framesOf = (b: BackboneEntry, n: number): ort.Tensor => {
  const full = batches.get(b.id)!;
  const size = frameTensorSize(b.input);
  const src = full.data as Float32Array;
  const have = src.length / size;
  const data = new Float32Array(n * size);
  for (let i = 0; i < n; i++) data.set(src.subarray((i % have) * size, ((i % have) + 1) * size), i * size);
  return new ort.Tensor('float32', data, [n, ...full.dims.slice(1)]);
};
const SWEEP = (args.sweep ?? '')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);

async function msOf(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

interface Setup {
  id: string;
  provider: 'webgpu' | 'cpu';
  threads: number;
}
type Outputs = { features: Map<string, Float32Array>; logits: Map<string, Float32Array> };

async function measure(s: Setup): Promise<Outputs | undefined> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [s.provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
  };
  const out: Outputs = { features: new Map(), logits: new Map() };
  const open = async (file: string, model: string) => {
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(readFileSync(join(dir, file)), options);
    emit({ kind: 'create', setup: s.id, model, ms: performance.now() - t0 });
    return session;
  };
  try {
    for (const b of backbones) {
      const session = await open(b.file, b.id);
      const one = { [b.input.name]: framesOf(b, 1) };
      const clip = { [b.input.name]: batches.get(b.id)! };
      emit({ kind: 'first-run', setup: s.id, model: b.id, batch: 1, ms: await msOf(() => session.run(one)) });
      const perFrame = await timeRuns(() => session.run(one), 2, RUNS);
      emit({ kind: 'backbone-batch1', setup: s.id, model: b.id, msPerRun: stats(perFrame) });
      const n = views.length * T;
      emit({ kind: 'first-run', setup: s.id, model: b.id, batch: n, ms: await msOf(() => session.run(clip)) });
      let features: Float32Array | undefined;
      const clipMs = await timeRuns(
        async () => (features = (await session.run(clip))[b.output.name]!.data as Float32Array),
        0,
        Math.max(3, Math.ceil(RUNS / 4)),
      );
      emit({
        kind: 'backbone-clip',
        setup: s.id,
        model: b.id,
        frames: n,
        msPerClip: stats(clipMs),
        msPerFrame: stats(clipMs.map((x) => x / n)),
      });
      out.features.set(b.id, features!);
      for (const size of SWEEP) {
        const feeds = { [b.input.name]: framesOf(b, size) };
        const ms = await timeRuns(() => session.run(feeds), 1, Math.max(3, Math.ceil(RUNS / 4)));
        emit({
          kind: 'backbone-sweep',
          setup: s.id,
          model: b.id,
          batch: size,
          msPerRun: stats(ms),
          msPerFrame: stats(ms.map((x) => x / size)),
        });
      }
      await session.release();
    }
    for (const h of heads) {
      const session = await open(h.file, h.id);
      const b = backbones.find((x) => x.id === h.backbone)!;
      const feeds = { [h.inputs.features]: new ort.Tensor('float32', out.features.get(b.id)!, [views.length, T, b.output.dim]) };
      emit({ kind: 'first-run', setup: s.id, model: h.id, batch: views.length, ms: await msOf(() => session.run(feeds)) });
      let logits: Float32Array | undefined;
      const ms = await timeRuns(
        async () => (logits = (await session.run(feeds))[h.outputs.logits]!.data as Float32Array),
        0,
        Math.max(3, Math.ceil(RUNS / 2)),
      );
      emit({ kind: 'head', setup: s.id, model: h.id, batch: views.length, frames: T, msPerRun: stats(ms) });
      out.logits.set(h.id, logits!);
      await session.release();
    }
    return out;
  } catch (e) {
    emit({ kind: 'error', setup: s.id, message: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const argmaxes = (logits: Float32Array, classes: number) =>
  Array.from({ length: logits.length / classes }, (_, v) => {
    const row = [...logits.subarray(v * classes, (v + 1) * classes)];
    return row.indexOf(Math.max(...row));
  });

const setups: Setup[] = [
  { id: 'webgpu', provider: 'webgpu', threads: 1 },
  { id: 'cpu-1', provider: 'cpu', threads: 1 },
  ...(cores > 1 ? [{ id: `cpu-${cores}`, provider: 'cpu' as const, threads: cores }] : []),
];
const results = new Map<string, Outputs | undefined>();
for (const s of setups) results.set(s.id, await measure(s));
const g = results.get('webgpu');
const c = results.get('cpu-1');
if (g && c) {
  for (const b of backbones) {
    const ref = c.features.get(b.id)!;
    emit({ kind: 'parity', model: b.id, what: 'features', maxAbsDiff: maxAbsDiff(g.features.get(b.id)!, ref), maxAbs: maxAbs(ref) });
  }
  for (const h of heads) {
    const ref = c.logits.get(h.id)!;
    const gl = g.logits.get(h.id)!;
    const classes = h.classes.length;
    emit({
      kind: 'parity',
      model: h.id,
      what: 'logits',
      maxAbsDiff: maxAbsDiff(gl, ref),
      maxAbs: maxAbs(ref),
      sameArgmax: argmaxes(gl, classes).join() === argmaxes(ref, classes).join(),
    });
  }
}
