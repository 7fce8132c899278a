/**
 * Main-thread client of workers/infer.worker.ts: spawns the worker, turns its `{code, message}`
 * failures back into VidkindErrors, transfers frames and features instead of copying them, and
 * loads models through the model store (download, sha256, Cache API) skipping what is loaded, and
 * ends a stuck worker (src/lib/watchdog.ts) so that one file's hang never stalls the queue.
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
import { formatLimit, stageLimits, startWatchdog, type StageLimits, type Watchdog } from './watchdog';

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
  /** session.run times of a loaded backbone on a fixed input (bench and diagnostics: the model alone). */
  timeBackbone(backboneId: string, runs: number, batch?: number): Promise<{ runMs: number[]; batch: number }>;
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

export interface InferClientOptions {
  /** Stall limit; by default `stageLimits()` at each call (the defaults, or the stored override). */
  limits?: Pick<StageLimits, 'inferStallMs'>;
  /** The worker to start (tests); by default workers/infer.worker.ts. */
  createWorker?: () => Worker;
  /**
   * Workers the backbones are spread over (backbone i on worker i mod n; heads on the first).
   * 'auto' (the default): 2 when the first worker runs WASM and twice its threads fit the cores
   * (`cores`), else 1. See `backboneLanes`.
   */
  backboneWorkers?: number | 'auto';
  /** Logical cores for 'auto' (tests); by default navigator.hardwareConcurrency. */
  cores?: number;
}

/**
 * How many workers the backbones of an ensemble run in. onnxruntime-web's own WASM threads were
 * slower than one thread on a 2-core machine (bench/RESULTS.md), while two one-thread sessions in
 * two workers share nothing and run side by side. Measured there (`bench/pieces.ts lanes`, one vs
 * two workers alternating), two were faster on every clip although the decoder shares the cores:
 * 10 s 720p -8 %, 60 s -12 %, 1080p VP9 -8 %, MPEG-4 via ffmpeg.wasm -2 %. On WebGPU the adapter
 * is one queue: one worker.
 */
export function backboneLanes(device: Pick<InferDevice, 'backboneProvider' | 'threads'>, cores: number, backbones: number): number {
  if (backbones < 2 || device.backboneProvider !== 'wasm') return 1;
  return 2 * device.threads <= cores ? 2 : 1;
}

const startInferWorker = () =>
  new Worker(new URL('../../workers/infer.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-infer' });

/**
 * Starts the inference worker(s): one, or (see `backboneLanes`) a second one that runs every other
 * backbone of an ensemble on the same frames at the same time. Each is a lane (below).
 */
export function createInferClient(config: InferConfig, options: InferClientOptions = {}): InferClient {
  const first = createLane(config, options);
  const lanes: InferClient[] = [first];
  /** Lane index of each loaded backbone. */
  const laneOf = new Map<string, number>();
  let devicePromise: Promise<InferDevice> | undefined;
  let wanted = 1;

  const firstDevice = () =>
    (devicePromise ??= first.device().catch((e: unknown) => {
      devicePromise = undefined;
      throw e;
    }));
  const device = async (): Promise<InferDevice> => {
    const d = await firstDevice();
    if (wanted < 2) return d;
    return { ...d, notes: [...d.notes, `The ensemble's backbones run side by side in ${wanted} workers of ${d.threads} thread(s) each.`] };
  };

  async function laneCount(backbones: number): Promise<number> {
    const d = await firstDevice();
    const setting = options.backboneWorkers ?? 'auto';
    if (setting !== 'auto') return Math.max(1, Math.min(setting, backbones));
    return backboneLanes(d, options.cores ?? globalThis.navigator?.hardwareConcurrency ?? 1, backbones);
  }

  function lane(i: number, threads: number): InferClient {
    // The other lanes get the first one's thread count explicitly, so that every lane runs alike.
    while (lanes.length <= i) lanes.push(createLane({ ...config, threads }, options));
    return lanes[i]!;
  }

  return {
    config,
    device,
    get backboneFrames() {
      return lanes.reduce((a, l) => a + l.backboneFrames, 0);
    },
    async ensureModels(loaded, models, onProgress, signal) {
      const d = await firstDevice();
      wanted = Math.max(wanted, await laneCount(models.backbones.length));
      const per = Array.from({ length: wanted }, () => [] as BackboneEntry[]);
      models.backbones.forEach((b, i) => {
        const at = laneOf.get(b.id) ?? i % wanted;
        laneOf.set(b.id, at);
        per[at]!.push(b);
      });
      const loadedModels = await Promise.all(
        per.map((backbones, i) =>
          lane(i, d.threads).ensureModels(loaded, { backbones, heads: i === 0 ? models.heads : [] }, onProgress, signal),
        ),
      );
      return loadedModels.flat();
    },
    async embed(request) {
      const ids = [request.backboneId, ...(request.moreBackboneIds ?? [])];
      const groups = new Map<number, string[]>();
      for (const id of ids) {
        const at = laneOf.get(id) ?? 0;
        groups.set(at, [...(groups.get(at) ?? []), id]);
      }
      if (groups.size === 1) return lanes[groups.keys().next().value!]!.embed(request);
      // Each lane gets its own copy of the pixels (they are transferred); the last one takes the original.
      const parts = [...groups.entries()];
      const results = await Promise.all(
        parts.map(([at, [id, ...more]], k) =>
          lanes[at]!.embed({
            ...request,
            backboneId: id!,
            moreBackboneIds: more,
            frames: k === parts.length - 1 ? request.frames : request.frames.map((f) => ({ ...f, data: f.data.slice() })),
            thumbnailMaxSide: k === 0 ? request.thumbnailMaxSide : undefined,
          }),
        ),
      );
      const byId = new Map(results.flatMap((r) => r.backbones.map((b) => [b.backboneId, b] as const)));
      const main = byId.get(request.backboneId)!;
      return {
        features: main.features,
        dim: main.dim,
        preprocessMs: results.reduce((a, r) => a + r.preprocessMs, 0),
        backboneMs: results.reduce((a, r) => a + r.backboneMs, 0),
        backbones: ids.map((id) => byId.get(id)!),
        thumbnails: results[0]!.thumbnails,
      };
    },
    async timeBackbone(backboneId, runs, batch) {
      return lanes[laneOf.get(backboneId) ?? 0]!.timeBackbone(backboneId, runs, batch);
    },
    async runHead(request) {
      return first.runHead(request);
    },
    dispose() {
      for (const l of lanes) l.dispose();
      devicePromise = undefined;
    },
  };
}

/**
 * One inference worker. One per provider/thread setting (onnxruntime fixes them per worker).
 * A worker that answers nothing for `inferStallMs` per unit of the call it should be running (the
 * worker runs its calls in order) is terminated: its calls fail with `timeout`, and the next call
 * starts a fresh worker, which `ensureModels` loads again (from the Cache API, verified).
 */
function createLane(config: InferConfig, options: InferClientOptions): InferClient {
  let worker: Worker | null = null;
  let remote: Comlink.Remote<InferWorkerApi> | null = null;
  let devicePromise: Promise<InferDevice> | undefined;
  let backboneFrames = 0;
  let nextCall = 0;
  /** Calls sent and not settled, oldest first (Map keeps insertion order). */
  const inflight = new Map<number, { units: number; fail: (e: VidkindError) => void }>();
  let watchdog: Watchdog | undefined;

  function stopWorker(reason: VidkindError): void {
    watchdog?.stop();
    watchdog = undefined;
    if (remote) remote[Comlink.releaseProxy]();
    worker?.terminate();
    worker = null;
    remote = null;
    devicePromise = undefined;
    const failing = [...inflight.values()];
    inflight.clear();
    for (const c of failing) c.fail(reason);
  }

  /** (Re)starts the countdown for the oldest call in flight; a settled call is progress. */
  function rearm(): void {
    watchdog?.stop();
    watchdog = undefined;
    const oldest = inflight.values().next().value;
    if (!oldest) return;
    const limitMs = (options.limits ?? stageLimits()).inferStallMs * oldest.units;
    watchdog = startWatchdog(limitMs, () =>
      stopWorker(
        new VidkindError(
          'timeout',
          `The inference worker gave no answer for ${formatLimit(limitMs)} and was stopped. The next file uses a fresh one.`,
        ),
      ),
    );
  }

  function ensureWorker(): Comlink.Remote<InferWorkerApi> {
    if (!worker || !remote) {
      worker = (options.createWorker ?? startInferWorker)();
      const crashed = (event: Event) => {
        const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : '';
        stopWorker(
          new VidkindError('inference-failed', `The inference worker stopped unexpectedly${detail}. The next file uses a fresh one.`),
        );
      };
      worker.addEventListener('error', crashed);
      worker.addEventListener('messageerror', crashed);
      remote = Comlink.wrap<InferWorkerApi>(worker);
    }
    return remote;
  }

  /** One worker call under the watchdog; `units` scales the limit (frames x views of an embed). */
  function call<T>(units: number, start: (api: Comlink.Remote<InferWorkerApi>) => Promise<T>): Promise<T> {
    const api = ensureWorker();
    const id = nextCall++;
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        if (!inflight.delete(id)) return false;
        rearm();
        return true;
      };
      inflight.set(id, { units: Math.max(1, units), fail: reject });
      if (inflight.size === 1) rearm();
      start(api).then(
        (value) => {
          if (settle()) resolve(value);
        },
        (error: unknown) => {
          if (!settle()) return;
          try {
            rethrow(error);
          } catch (e) {
            reject(e);
          }
        },
      );
    });
  }

  const device = () => (devicePromise ??= call(1, (api) => api.configure(config)));

  return {
    config,
    device,
    get backboneFrames() {
      return backboneFrames;
    },
    async ensureModels(loaded, models, onProgress, signal) {
      await device();
      const have = new Set((await call(1, (api) => api.loadedModels())).map((m) => `${m.id}@${m.sha256}`));
      const out: LoadedModel[] = [];
      // Every file downloads at once, and the sessions are created heads first: a head is small, so
      // its session, the worker's first, starts onnxruntime's WASM runtime (1.7-1.9 s in Chromium on
      // the 2-core bench machine) while the backbone is still downloading and being verified.
      const todo: Array<{ kind: 'backbone' | 'head'; entry: BackboneEntry | HeadEntry }> = [
        ...models.heads.map((entry) => ({ kind: 'head' as const, entry })),
        ...models.backbones.map((entry) => ({ kind: 'backbone' as const, entry })),
      ].filter(({ entry }) => !have.has(`${entry.id}@${entry.sha256}`));
      const downloads = todo.map(({ entry }) => fetchModel(loaded, entry, onProgress, signal));
      // Settled below in order; one failing first must not leave the others' rejections unhandled.
      for (const d of downloads) d.catch(() => {});
      for (const [i, { kind, entry }] of todo.entries()) {
        const bytes = await downloads[i]!;
        if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
        out.push(await call(1, (api) => api.loadModel(kind, entry, Comlink.transfer(bytes, [bytes]))));
      }
      return out;
    },
    async embed(request) {
      const buffers = request.frames.map((f) => f.data.buffer as ArrayBuffer);
      const units = request.frames.length * request.views.length * (1 + (request.moreBackboneIds?.length ?? 0));
      const r = await call(units, (api) => api.embed(Comlink.transfer(request, [...new Set(buffers)])));
      backboneFrames += units;
      return r;
    },
    async timeBackbone(backboneId, runs, batch) {
      return call(runs * (batch ?? 1), (api) => api.timeBackbone(backboneId, runs, batch));
    },
    async runHead(request) {
      return call(1, (api) => api.runHead(Comlink.transfer(request, [request.features.buffer as ArrayBuffer])));
    },
    dispose() {
      stopWorker(new VidkindError('cancelled', 'The inference worker was closed.'));
    },
  };
}
