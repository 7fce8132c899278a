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
  /**
   * Starts loading the models of the last `ensureModels` into the other workers, in the background
   * (no-op with one worker, or when they hold them already). Call it when the pipeline is idle: on a
   * first visit, creating the second worker's sessions beside the first file's work cost more than
   * the second worker saved on it (bench/pieces.ts cold: 9.0 s against 7.9 s for one worker).
   */
  loadOtherWorkers(): void;
  /** Resolves once every worker holds the models (the extra ones load in the background): tests and the bench. */
  whenAllLoaded(): Promise<void>;
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
   * Inference workers, each holding every backbone of the ensemble; each frame goes to the least
   * busy one (heads run on the first). 'auto' (the default): 2 when the first worker runs WASM and
   * twice its threads fit the cores (`cores`), else 1. See `inferLanes`.
   */
  backboneWorkers?: number | 'auto';
  /** Logical cores for 'auto' (tests); by default navigator.hardwareConcurrency. */
  cores?: number;
}

/**
 * How many inference workers (lanes) there are. onnxruntime-web's own WASM threads were slower than
 * one thread on a 2-core machine (bench/RESULTS.md), while one-thread sessions in two workers share
 * nothing and run side by side. Each lane holds every backbone and takes whole frames, so the work
 * splits evenly whatever the ensemble (one backbone, or a heavy and a light one). Measured on the
 * 2-core bench machine (`bench/pieces.ts lanes`, 2026-11-29, default ensemble, 16 frames, 4 rounds
 * alternating; one worker / the backbones split over two workers, as before / frames spread over
 * two): 10 s 720p 1.68 / 1.61 / 1.19 s, 60 s 2.54 / 2.78 / 2.50 s, 1080p VP9 3.16 / 3.59 / 3.13 s,
 * MPEG-4 via ffmpeg.wasm 1.98 / 2.04 / 1.54 s. A first visit's first file (`bench/pieces.ts cold`,
 * 60 s clip, 3 rounds): one worker 7.9 s, the old split 9.4 s, now 7.9 s (the second worker starts
 * once the pipeline is idle). On WebGPU the adapter is one queue: one worker.
 */
export function inferLanes(device: Pick<InferDevice, 'backboneProvider' | 'threads'>, cores: number): number {
  if (device.backboneProvider !== 'wasm') return 1;
  return 2 * device.threads <= cores ? 2 : 1;
}

const startInferWorker = () =>
  new Worker(new URL('../../workers/infer.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-infer' });

const backbonesKey = (backbones: BackboneEntry[]) => backbones.map((b) => `${b.id}@${b.sha256}`).join();

/** Model bytes for a lane to load (transferred to its worker, so each lane gets its own copy). */
type GetBytes = (entry: BackboneEntry | HeadEntry) => Promise<ArrayBuffer>;

/**
 * Starts the inference worker(s): one, or (see `inferLanes`) more, each a lane (below) holding every
 * backbone; each frame goes to the loaded lane with the fewest embeds in flight (ties in turn), and
 * the heads run on the first. Every model is downloaded once for all lanes. The first lane's load is
 * the models' load; the others load in the background when the pipeline is idle
 * (`loadOtherWorkers`) and take frames from then on, so a first visit's "models ready" and first
 * file neither wait for them nor share the cores with their start.
 */
export function createInferClient(config: InferConfig, options: InferClientOptions = {}): InferClient {
  const first = createLane(config, options);
  const lanes: Lane[] = [first];
  /** Embeds sent to each lane and not answered yet. */
  const pending: number[] = [0];
  /** Lanes that hold the current models and take frames (the first once ensureModels has loaded it). */
  const ready = new Set<number>();
  /** What each other lane holds, or is loading in the background: the backbones' ids and hashes. */
  const holds = new Map<number, string>();
  const loading = new Map<number, Promise<void>>();
  /** Loads the last ensureModels' backbones into the other lanes (set by ensureModels). */
  let others = () => {};
  let turn = 0;
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
    return {
      ...d,
      notes: [...d.notes, `Frames run side by side in ${wanted} workers of ${d.threads} thread(s) each, each holding every backbone.`],
    };
  };

  async function laneCount(): Promise<number> {
    const d = await firstDevice();
    const setting = options.backboneWorkers ?? 'auto';
    if (setting !== 'auto') return Math.max(1, setting);
    return inferLanes(d, options.cores ?? globalThis.navigator?.hardwareConcurrency ?? 1);
  }

  function lane(i: number, threads: number): Lane {
    // The other lanes get the first one's thread count explicitly, so that every lane runs alike.
    while (lanes.length <= i) {
      lanes.push(createLane({ ...config, threads }, options));
      pending.push(0);
    }
    return lanes[i]!;
  }

  /** Loads the backbones into lane i in the background, unless it holds or is loading them already. */
  function loadInBackground(i: number, threads: number, backbones: BackboneEntry[], getBytes: GetBytes): void {
    const l = lane(i, threads);
    const key = backbonesKey(backbones);
    // A lane whose worker the watchdog stopped restarts empty: load it again.
    if (holds.get(i) === key && (loading.has(i) || l.alive)) return;
    ready.delete(i);
    holds.set(i, key);
    const job = l.load({ backbones, heads: [] }, getBytes).then(
      () => {
        if (holds.get(i) === key) ready.add(i);
      },
      () => {
        holds.delete(i);
      },
    );
    loading.set(i, job);
    void job.finally(() => {
      if (loading.get(i) === job) loading.delete(i);
    });
  }

  return {
    config,
    device,
    get backboneFrames() {
      return lanes.reduce((a, l) => a + l.backboneFrames, 0);
    },
    async ensureModels(loaded, models, onProgress, signal) {
      const d = await firstDevice();
      wanted = Math.max(wanted, await laneCount());
      // One download per file for every lane; each lane is handed its own copy (bytes are transferred).
      const downloads = new Map<string, Promise<ArrayBuffer>>();
      const bytesOf =
        (progress?: (p: ModelProgress) => void, sig?: AbortSignal): GetBytes =>
        async (entry) => {
          let p = downloads.get(entry.sha256);
          if (!p) downloads.set(entry.sha256, (p = fetchModel(loaded, entry, progress, sig)));
          return (await p).slice(0);
        };
      const out = await first.load(models, bytesOf(onProgress, signal), signal);
      ready.add(0);
      // The others from the bytes just fetched (or the Cache API), not cancelled with this call's
      // file, when loadOtherWorkers says the pipeline is idle.
      const getBytes = bytesOf();
      others = () => {
        for (let i = 1; i < wanted; i++) loadInBackground(i, d.threads, models.backbones, getBytes);
      };
      // A worker the watchdog restarted, or other models: it takes no frames until loaded again.
      for (let i = 1; i < wanted; i++) if (holds.get(i) !== backbonesKey(models.backbones) || !lanes[i]?.alive) ready.delete(i);
      return out;
    },
    loadOtherWorkers() {
      others();
    },
    async whenAllLoaded() {
      while (loading.size > 0) await Promise.allSettled([...loading.values()]);
    },
    async embed(request) {
      let at = -1;
      for (let k = 0; k < lanes.length; k++) {
        const i = (turn + k) % lanes.length;
        if (i > 0 && !ready.has(i)) continue;
        if (at < 0 || pending[i]! < pending[at]!) at = i;
      }
      turn = (at + 1) % lanes.length;
      pending[at]!++;
      try {
        return { ...(await lanes[at]!.embed(request)), worker: at };
      } finally {
        pending[at]!--;
      }
    },
    async timeBackbone(backboneId, runs, batch) {
      return first.timeBackbone(backboneId, runs, batch);
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

/** One worker, as an InferClient, that can also load models from bytes given by its owner. */
interface Lane extends InferClient {
  /** Whether its worker is running (the watchdog stops a stuck one; the next call starts it empty). */
  readonly alive: boolean;
  load(models: { backbones: BackboneEntry[]; heads: HeadEntry[] }, getBytes: GetBytes, signal?: AbortSignal): Promise<LoadedModel[]>;
}

/**
 * One inference worker. One per provider/thread setting (onnxruntime fixes them per worker).
 * A worker that answers nothing for `inferStallMs` per unit of the call it should be running (the
 * worker runs its calls in order) is terminated: its calls fail with `timeout`, and the next call
 * starts a fresh worker, which `ensureModels` loads again (from the Cache API, verified).
 */
function createLane(config: InferConfig, options: InferClientOptions): Lane {
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

  const load: Lane['load'] = async (models, getBytes, signal) => {
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
    const downloads = todo.map(({ entry }) => getBytes(entry));
    // Settled below in order; one failing first must not leave the others' rejections unhandled.
    for (const d of downloads) d.catch(() => {});
    for (const [i, { kind, entry }] of todo.entries()) {
      const bytes = await downloads[i]!;
      if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
      out.push(await call(1, (api) => api.loadModel(kind, entry, Comlink.transfer(bytes, [bytes]))));
    }
    return out;
  };

  return {
    config,
    device,
    get backboneFrames() {
      return backboneFrames;
    },
    get alive() {
      return worker !== null;
    },
    ensureModels: (loaded, models, onProgress, signal) => load(models, (entry) => fetchModel(loaded, entry, onProgress, signal), signal),
    whenAllLoaded: async () => {},
    loadOtherWorkers: () => {},
    load,
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
