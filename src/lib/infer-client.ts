/**
 * Main-thread client of workers/infer.worker.ts: spawns the worker, turns its `{code, message}`
 * failures back into VidkindErrors, transfers frames and features instead of copying them, and
 * loads models through the model store (download, sha256, Cache API) skipping what is loaded.
 */
import * as Comlink from 'comlink';
import { VidkindError, fromErrorInfo, isErrorCode } from '../core/errors';
import type { BackboneEntry, HeadEntry } from '../core/manifest';
import type {
  EmbedRequest,
  EmbedResult,
  HeadRequest,
  HeadResult,
  InferConfig,
  InferDevice,
  InferWorkerApi,
  LoadedModel,
} from '../../workers/infer/api';
import { fetchModel, type LoadedManifest, type ModelProgress } from './model-store';

export type { EmbedResult, HeadResult, InferConfig, InferDevice, LoadedModel };

export interface InferClient {
  readonly config: InferConfig;
  /** Decided by the worker on first use (provider, threads, adapter). */
  device(): Promise<InferDevice>;
  /** Makes sure these models are loaded (downloaded/verified via the model store when not yet). */
  ensureModels(
    loaded: LoadedManifest,
    models: { backbones: BackboneEntry[]; heads: HeadEntry[] },
    onProgress?: (p: ModelProgress) => void,
    signal?: AbortSignal,
  ): Promise<LoadedModel[]>;
  /** Backbone features of some frames for some spatial views; the frames' pixel buffers are transferred. */
  embed(request: EmbedRequest): Promise<EmbedResult>;
  /** Head outputs for features [n, t, D]; the `features` buffer is transferred (pass a fresh batch). */
  runHead(request: HeadRequest): Promise<HeadResult>;
  /** Number of backbone frames run so far (frames x views): lets tests and the bench see a skipped backbone. */
  readonly backboneFrames: number;
  dispose(): void;
}

function rethrow(e: unknown): never {
  const info = (e as { vidkindError?: { code?: unknown; message?: unknown } } | null)?.vidkindError;
  if (info && isErrorCode(info.code) && typeof info.message === 'string') throw fromErrorInfo({ code: info.code, message: info.message });
  throw new VidkindError('internal', `The inference worker failed: ${e instanceof Error ? e.message : String(e)}`);
}

/** Starts an inference worker. One per provider/thread setting (onnxruntime fixes them per worker). */
export function createInferClient(config: InferConfig): InferClient {
  const worker = new Worker(new URL('../../workers/infer.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-infer' });
  const remote = Comlink.wrap<InferWorkerApi>(worker);
  let devicePromise: Promise<InferDevice> | undefined;
  let backboneFrames = 0;
  const device = () => (devicePromise ??= remote.configure(config).catch(rethrow));

  return {
    config,
    device,
    get backboneFrames() {
      return backboneFrames;
    },
    async ensureModels(loaded, models, onProgress, signal) {
      await device();
      const have = new Set((await remote.loadedModels().catch(rethrow)).map((m) => `${m.id}@${m.sha256}`));
      const out: LoadedModel[] = [];
      const todo: Array<{ kind: 'backbone' | 'head'; entry: BackboneEntry | HeadEntry }> = [
        ...models.backbones.map((entry) => ({ kind: 'backbone' as const, entry })),
        ...models.heads.map((entry) => ({ kind: 'head' as const, entry })),
      ];
      for (const { kind, entry } of todo) {
        if (have.has(`${entry.id}@${entry.sha256}`)) continue;
        const bytes = await fetchModel(loaded, entry, onProgress, signal);
        if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
        out.push(await remote.loadModel(kind, entry, Comlink.transfer(bytes, [bytes])).catch(rethrow));
      }
      return out;
    },
    async embed(request) {
      const buffers = request.frames.map((f) => f.data.buffer as ArrayBuffer);
      const r = await remote.embed(Comlink.transfer(request, [...new Set(buffers)])).catch(rethrow);
      backboneFrames += request.frames.length * request.views.length;
      return r;
    },
    async runHead(request) {
      return remote.runHead(Comlink.transfer(request, [request.features.buffer as ArrayBuffer])).catch(rethrow);
    },
    dispose() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
