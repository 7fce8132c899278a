/**
 * Inference worker: preprocessing (core resampleRgb + rgbToTensor = frameToTensor, here so RGBA frames are transferred once and
 * the main thread never touches pixels), backbone sessions (one run per batch of frames, every
 * spatial TTA view in the same batch) and head sessions, with onnxruntime-web.
 */
import * as Comlink from 'comlink';
import { toErrorInfo, VidkindError } from '../src/core/errors';
import { verifyModelBytes, type BackboneEntry, type HeadEntry } from '../src/core/manifest';
import { frameTensorSize, resampleRgb, rgbToTensor, thumbnail, type ViewSpec } from '../src/core/preprocess';
import type {
  BackboneFeatures,
  EmbedRequest,
  EmbedResult,
  HeadRequest,
  HeadResult,
  InferConfig,
  InferDevice,
  InferError,
  InferWorkerApi,
  LoadedModel,
} from './infer/api';
import { chooseProvider, wasmThreads } from './infer/providers';
import { configureRuntime, float32Tensor, HEAD_ON_WASM_NOTE, HEADS_ON_WEBGPU, SessionPool } from './infer/sessions';

let device: InferDevice | undefined;
let pool: SessionPool | undefined;
const backbones = new Map<string, BackboneEntry>();
const heads = new Map<string, HeadEntry>();

async function probeAdapter(): Promise<{ adapter: boolean; fallback: boolean; name: string | null }> {
  const gpu = (self.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { adapter: false, fallback: false, name: null };
  try {
    const a = await gpu.requestAdapter();
    if (!a) return { adapter: false, fallback: false, name: null };
    const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
    return { adapter: true, fallback: Boolean(info.isFallbackAdapter), name };
  } catch {
    return { adapter: false, fallback: false, name: null };
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new VidkindError('inference-failed', `${what} (call configure and loadModel first).`);
  return value;
}

/** Errors leave the worker as `{code, message}` values, never as opaque Error objects. */
function guard<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw { vidkindError: toErrorInfo(e) } satisfies InferError;
    }
  };
}

const api: InferWorkerApi = {
  configure: guard(async (config: InferConfig): Promise<InferDevice> => {
    if (device) {
      // onnxruntime-web's WASM runtime (threads) and provider are per worker: a different config needs a new worker.
      const same =
        (config.backend === 'auto' || config.backend === device.backboneProvider) &&
        (config.threads === undefined || config.threads === device.threads);
      if (!same) throw new VidkindError('internal', 'This inference worker is already configured differently; start a new one.');
      return device;
    }
    const gpu = await probeAdapter();
    const isolated = self.crossOriginIsolated === true;
    const cores = self.navigator?.hardwareConcurrency ?? 1;
    const { provider, note } = chooseProvider(config.backend, {
      adapter: gpu.adapter,
      fallbackAdapter: gpu.fallback,
      crossOriginIsolated: isolated,
      cores,
    });
    const threads = wasmThreads({ crossOriginIsolated: isolated, cores }, config.threads);
    const headProvider = provider === 'webgpu' && HEADS_ON_WEBGPU ? 'webgpu' : 'wasm';
    const notes = [note];
    if (provider === 'webgpu' && headProvider === 'wasm') notes.push(HEAD_ON_WASM_NOTE);
    if (!isolated) notes.push('Not cross-origin isolated (no COOP/COEP headers): WASM runs one thread.');
    await configureRuntime(provider, threads, config.verboseLog ?? false);
    device = {
      backboneProvider: provider,
      headProvider,
      threads,
      adapter: gpu.name,
      fallbackAdapter: gpu.fallback,
      crossOriginIsolated: isolated,
      notes,
    };
    pool = new SessionPool({ backbone: provider, head: headProvider }, config.verboseLog ?? false);
    return device;
  }),

  loadModel: guard(async (kind: 'backbone' | 'head', entry: BackboneEntry | HeadEntry, bytes: ArrayBuffer): Promise<LoadedModel> => {
    const p = need(pool, 'The inference worker is not configured');
    // Checked here too, right before the bytes become a session: a model that does not match is never run.
    await verifyModelBytes(entry, bytes);
    const info = await p.create(kind, entry, new Uint8Array(bytes));
    if (kind === 'backbone') backbones.set(entry.id, entry as BackboneEntry);
    else heads.set(entry.id, entry as HeadEntry);
    return info;
  }),

  loadedModels: guard(async () => pool?.list() ?? []),

  embed: guard(async ({ backboneId, moreBackboneIds, frames, views, thumbnailMaxSide }: EmbedRequest): Promise<EmbedResult> => {
    const p = need(pool, 'The inference worker is not configured');
    const entries = [backboneId, ...(moreBackboneIds ?? [])].map((id) => need(backbones.get(id), `Backbone "${id}" is not loaded`));
    const n = frames.length * views.length;
    // One resize per frame, view and input size, shared by every backbone of that size (the
    // default ensemble's two MobileNets both take 224x224): the resize is the costly half.
    const resized = new Map<string, Float32Array>();
    const rgbOf = (f: number, view: ViewSpec, width: number, height: number) => {
      const key = `${f}|${width}x${height}|${view.flip ? 1 : 0}|${view.crop ?? 1}`;
      let rgb = resized.get(key);
      if (!rgb) resized.set(key, (rgb = resampleRgb(frames[f]!, width, height, view)));
      return rgb;
    };
    let preprocessMs = 0;
    let backboneMs = 0;
    const out: BackboneFeatures[] = [];
    for (const entry of entries) {
      const spec = entry.input;
      const t0 = performance.now();
      // View-major batch: rows [v * frames + f], so each view's features are one contiguous block.
      const input = new Float32Array(n * frameTensorSize(spec));
      views.forEach((view, v) =>
        frames.forEach((_, f) => rgbToTensor(rgbOf(f, view, spec.width, spec.height), spec, input, v * frames.length + f)),
      );
      preprocessMs += performance.now() - t0;
      const dims = spec.layout === 'NHWC' ? [n, spec.height, spec.width, 3] : [n, 3, spec.height, spec.width];
      const { outputs, ms } = await p.run(entry.id, { [spec.name]: float32Tensor(input, dims) });
      backboneMs += ms;
      const emb = outputs[entry.output.name];
      for (const [name, v] of Object.entries(outputs)) if (name !== entry.output.name) v.dispose();
      if (!emb) throw new VidkindError('inference-failed', `Backbone "${entry.id}" has no output "${entry.output.name}".`);
      const data = (await emb.getData()) as Float32Array;
      emb.dispose();
      const dim = data.length / n;
      if (dim !== entry.output.dim)
        throw new VidkindError(
          'inference-failed',
          `Backbone "${entry.id}" gave ${dim} features per frame, the manifest says ${entry.output.dim}.`,
        );
      const features = views.map((_, v) => data.slice(v * frames.length * dim, (v + 1) * frames.length * dim));
      out.push({ backboneId: entry.id, features, dim, backboneMs: ms });
    }
    const thumbnails = thumbnailMaxSide ? frames.map((f) => thumbnail(f, thumbnailMaxSide)) : undefined;
    const first = out[0]!;
    const result: EmbedResult = { features: first.features, dim: first.dim, preprocessMs, backboneMs, backbones: out, thumbnails };
    return Comlink.transfer(
      result,
      [...out.flatMap((b) => b.features), ...(thumbnails ?? []).map((t) => t.data)].map((x) => x.buffer as ArrayBuffer),
    );
  }),

  timeBackbone: guard(async (backboneId: string, runs: number, batch = 1) => {
    const p = need(pool, 'The inference worker is not configured');
    const entry = need(backbones.get(backboneId), `Backbone "${backboneId}" is not loaded`);
    const spec = entry.input;
    const data = new Float32Array(batch * frameTensorSize(spec));
    for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
    const dims = spec.layout === 'NHWC' ? [batch, spec.height, spec.width, 3] : [batch, 3, spec.height, spec.width];
    const feeds = { [spec.name]: float32Tensor(data, dims) };
    const runMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { outputs, ms } = await p.run(backboneId, feeds);
      for (const v of Object.values(outputs)) v.dispose();
      runMs.push(ms);
    }
    return { runMs, batch };
  }),

  runHead: guard(async ({ headId, features, n, t }: HeadRequest): Promise<HeadResult> => {
    const p = need(pool, 'The inference worker is not configured');
    const entry = need(heads.get(headId), `Head "${headId}" is not loaded`);
    const dim = features.length / (n * t);
    if (!Number.isInteger(dim))
      throw new VidkindError('inference-failed', `Features of length ${features.length} are not [${n}, ${t}, D].`);
    const { outputs: out, ms } = await p.run(headId, { [entry.inputs.features]: float32Tensor(features, [n, t, dim]) });
    const take = async (name: string | undefined) => {
      const v = name ? out[name] : undefined;
      if (!v) return undefined;
      const d = (await v.getData()) as Float32Array;
      v.dispose();
      return d;
    };
    const logits = await take(entry.outputs.logits);
    if (!logits) throw new VidkindError('inference-failed', `Head "${headId}" has no output "${entry.outputs.logits}".`);
    const subLogits = await take(entry.outputs.subLogits);
    const attention = await take(entry.outputs.attention);
    const result: HeadResult = {
      logits,
      classes: logits.length / n,
      subLogits,
      subclasses: subLogits ? subLogits.length / n : undefined,
      attention,
      ms,
    };
    return Comlink.transfer(
      result,
      [logits, subLogits, attention].filter((x) => x !== undefined).map((x) => x.buffer as ArrayBuffer),
    );
  }),

  release: guard(async () => {
    await pool?.releaseAll();
    backbones.clear();
    heads.clear();
  }),
};

Comlink.expose(api);
