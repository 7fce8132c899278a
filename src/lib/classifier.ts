/**
 * The classification pipeline behind the UI (`Classifier` from classifier-types.ts):
 * file -> feature cache or (decode worker -> frames transferred to the infer worker -> core
 * preprocessing + backbone, overlapping the decode) -> heads on the full plan, on every TTA view
 * and on the segment windows -> core buildVerdict -> a validated `Result`.
 *
 * Each backbone runs once per frame and view; its features are shared by every head on that
 * backbone. All backbones of a frame run in one call to the infer worker, which resizes the frame
 * once per input size and view for all of them. Ensemble members may sit on different backbones. TTA views come from the manifest:
 * spatial ones (flip, centre crop) are extra backbone inputs of the same frames, temporal ones are
 * extra sampling plans that the decoder produces in the same pass.
 */
import { abortable, toErrorInfo, throwIfCancelled, VidkindError } from '../core/errors';
import { chosenEnsemble, ensembleModels, type BackboneEntry, type EnsembleEntry, type TtaView } from '../core/manifest';
import type { RgbaFrame, ViewSpec } from '../core/preprocess';
import { SuccessResultSchema, type Result } from '../core/result';
import { samplePlan, segmentWindows, type SamplePlan } from '../core/sampling';
import { buildVerdict, type MemberOutput } from '../core/verdict';
import { providerLabel } from '../../workers/infer/providers';
import type {
  Classifier,
  ClassifyOutput,
  ClassifySettings,
  DeviceInfo,
  FrameThumbnail,
  ModelLoadProgress,
  Progress,
} from './classifier-types';
import { createDecodeClient, type DecodeClient, type DecodedFrame, type DecoderKind, type VideoInfo } from './decode-client';
import { featureCache, fileFingerprint, viewKey, type VideoRecord } from './feature-cache';
import { batchViews, batchWindows, memberOutput } from '../core/head-batches';
import { createInferClient, type InferClient, type InferDevice } from './infer-client';
import { clearModelCache, DEFAULT_MANIFEST_URL, loadManifest, type LoadedManifest } from './model-store';

export interface ClassifierOptions {
  /** Where manifest.json lives (default `./models/manifest.json`, relative to the page). */
  manifestUrl?: string;
  /** WASM threads (default: cores - 1, up to 4, when cross-origin isolated, else 1). For the benchmark. */
  threads?: number;
  /** Use and fill the IndexedDB feature cache (default true). */
  featureCache?: boolean;
  /** Inference workers the frames are spread over, each holding every backbone (default 'auto': see infer-client's `inferLanes`). */
  backboneWorkers?: number | 'auto';
  /** onnxruntime's verbose session log in the worker console (which provider took which node). */
  verboseLog?: boolean;
  /** Decode every file on this path only (tests and diagnostics; default: WebCodecs, then ffmpeg.wasm). */
  forceDecoder?: DecoderKind;
  /**
   * A short clip to run through the decoder and the backbones once, after `init` has loaded the
   * models and while no file is classified (the app's: src/app/warm-up.mp4). The first file of a
   * visit otherwise pays one-time costs: the decode worker's start, WebCodecs' first decoder, the
   * backbones' first runs. Measured in Chromium on the 2-core machine (6 fresh visits each, the same
   * 10 s 720p clip picked 7 s after "Models ready"): its verdict took 1.44-1.78 s with the warm-up
   * against 1.89-2.31 s without; the second file, 1.2-1.4 s either way. A file picked meanwhile
   * stops the warm-up.
   */
  warmUpClip?: () => Promise<File>;
}

/** Work counters of one `classify`, beside the Result's timings (bench and tests read them). */
export interface ClassifyWork {
  decodedFrames: number;
  /** Backbone inputs run (frames x spatial views x backbones); 0 when everything came from the feature cache. */
  backboneFrames: number;
  headRuns: number;
  preprocessMs: number;
  /** Per backbone: inputs run (frames x views) and their session.run time, for per-model ms/run. */
  backbones: Record<string, { runs: number; ms: number }>;
  /** Backbone inputs run by each inference worker (index: worker). */
  backboneFramesPerWorker: number[];
}

/** `ClassifyOutput` plus what ran (additive to the UI contract). */
export interface ClassifyOutputWithWork extends ClassifyOutput {
  work: ClassifyWork;
}

/** The UI's `Classifier`, whose outputs also carry `work` (additive). */
export interface WorkReportingClassifier extends Classifier {
  classify(
    file: File,
    settings: ClassifySettings,
    opts?: { onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<ClassifyOutputWithWork>;
  /** Resolves once every inference worker holds the models (the second loads in the background): tests and the bench. */
  whenAllLoaded(): Promise<void>;
}

const THUMBNAIL_SIDE = 160;
/** Frames handed to the infer worker but not yet embedded: bounds memory when decoding outruns the backbone. */
const MAX_FRAMES_IN_FLIGHT = 4;
/**
 * Decoded frames kept while the models are still loading (a visit's first file): 192 MB holds the
 * 16 frames of the default plan at 1280x720 three times over (temporal TTA), so decoding a first
 * file overlaps the models' download and session creation instead of waiting for them.
 */
const FRAME_BYTES_WHILE_LOADING = 192 * 1024 * 1024;
/** The queue's note on a file whose frames are decoded and wait for the models to finish loading. */
const WAITING_FOR_MODELS = 'waiting for the models to finish loading';
const IDENTITY: TtaView = { id: 'identity', flip: false, crop: 1, shift: 0 };

const spatialKey = (v: ViewSpec) => `flip=${v.flip ? 1 : 0},crop=${v.crop ?? 1}`;

type Ensured = {
  loaded: LoadedManifest;
  infer: InferClient;
  ensemble: EnsembleEntry;
  models: ReturnType<typeof ensembleModels>;
  device: InferDevice;
};

function deviceInfo(d: InferDevice): DeviceInfo {
  return { provider: d.backboneProvider, threads: d.threads, adapter: d.adapter, notes: d.notes };
}

const emptyWork = (): ClassifyWork => ({
  decodedFrames: 0,
  backboneFrames: 0,
  headRuns: 0,
  preprocessMs: 0,
  backbones: {},
  backboneFramesPerWorker: [],
});

/** Creates the pipeline; workers start on `init`. */
export function createClassifier(options: ClassifierOptions = {}): WorkReportingClassifier {
  const useCache = options.featureCache ?? true;
  let infer: InferClient | undefined;
  let decoder: DecodeClient | undefined;

  let manifestLoad: Promise<LoadedManifest> | undefined;
  /** Models from a folder the user picked (useModels), in place of the site's. */
  let folder: LoadedManifest | null = null;
  /** Bumped by useModels, so that a load for other models is never taken for this one's. */
  let source = 0;
  /** Classifies in progress (the other inference workers load when there are none). */
  let running = 0;
  /** The models' load for one backend and ensemble, shared by `init` and every `classify` that waits on it. */
  let modelsLoad: { key: string; promise: Promise<Ensured> } | undefined;
  /** Download progress goes to the latest `init`'s listener, also for a load a classify started. */
  let modelProgress: ((p: ModelLoadProgress) => void) | undefined;

  /** The manifest, fetched once per classifier (again after clearModelCache); a failed fetch is retried next time. */
  function manifestOnce(): Promise<LoadedManifest> {
    if (folder) return (manifestLoad ??= Promise.resolve(folder));
    manifestLoad ??= loadManifest(options.manifestUrl ?? DEFAULT_MANIFEST_URL).catch((e: unknown) => {
      manifestLoad = undefined;
      throw e;
    });
    return manifestLoad;
  }

  /** What a classify needs before any model is loaded: the manifest, the ensemble and the infer client. */
  async function prepare(settings: ClassifySettings) {
    const loaded = await manifestOnce();
    if (infer && infer.config.backend !== settings.backend) {
      infer.dispose();
      infer = undefined;
      modelsLoad = undefined;
    }
    infer ??= createInferClient(
      { backend: settings.backend, threads: options.threads, verboseLog: options.verboseLog },
      { backboneWorkers: options.backboneWorkers },
    );
    const ensemble = chosenEnsemble(loaded.manifest, settings.ensemble);
    return { loaded, infer, ensemble, models: ensembleModels(loaded.manifest, ensemble) };
  }

  /**
   * Loads the models for these settings: `init` and the classifies that start while it runs share
   * one load (two at once would download and create every session twice). Once it has settled, the
   * next call checks again (a cheap question to the worker when all is loaded), so that a fresh
   * infer worker, started after the watchdog ended a stuck one, gets its models back. It is not
   * tied to any file's signal: cancelling a file leaves the load going for the next one.
   */
  function ensure(settings: ClassifySettings, onModelProgress?: (p: ModelLoadProgress) => void): Promise<Ensured> {
    if (onModelProgress) modelProgress = onModelProgress;
    const key = `${source}|${settings.backend}|${settings.ensemble ?? ''}`;
    if (modelsLoad?.key === key) return modelsLoad.promise;
    const promise = (async () => {
      const p = await prepare(settings);
      await p.infer.ensureModels(p.loaded, p.models, (progress) => modelProgress?.(progress));
      return { ...p, device: await p.infer.device() };
    })();
    const entry = { key, promise };
    modelsLoad = entry;
    // Settled, loaded or failed: the next caller asks again (a failed load is retried by the app's
    // "Try again" or the next file).
    const settled = () => {
      if (modelsLoad === entry) modelsLoad = undefined;
    };
    // A model that failed its integrity check may be older or newer than the manifest (a site
    // updated mid-visit, a stale cache): the retry fetches the manifest again too.
    const failed = () => {
      settled();
      manifestLoad = undefined;
    };
    promise.then(settled, failed);
    return promise;
  }

  async function run(
    file: File,
    settings: ClassifySettings,
    onProgress: (p: Progress) => void,
    signal: AbortSignal | undefined,
  ): Promise<ClassifyOutputWithWork> {
    const tStart = performance.now();
    const work = emptyWork();
    onProgress({ stage: 'loading-models', fraction: 0 });
    const { loaded, infer, ensemble, models } = await abortable(prepare(settings), signal);
    const manifest = loaded.manifest;
    // The models may still be loading (the first file of a visit): the decode starts now and its
    // frames wait for them (decodeAndEmbed), so downloading and creating the sessions overlaps decoding.
    const ready = abortable(ensure(settings), signal);
    ready.catch(() => {});
    throwIfCancelled(signal);

    const T = settings.frames;
    const views: TtaView[] = settings.tta ? manifest.tta.views : [IDENTITY];
    const fingerprint = useCache ? await fileFingerprint(file) : '';
    const keyOf = (b: BackboneEntry, v: TtaView) => ({
      fingerprint,
      backboneId: b.id,
      backboneSha256: b.sha256,
      frames: T,
      view: viewKey(v),
    });

    // features.get(backboneId)[viewIndex] = [T, D]
    const features = new Map<string, Array<Float32Array | undefined>>(models.backbones.map((b) => [b.id, views.map(() => undefined)]));
    let video: VideoRecord | undefined;
    if (useCache) {
      video = await featureCache.getVideo(fingerprint, T);
      for (const b of models.backbones)
        for (let v = 0; v < views.length; v++) features.get(b.id)![v] = (await featureCache.getFeatures(keyOf(b, views[v]!)))?.features;
    }
    const missing = models.backbones.flatMap((b) => views.flatMap((v, i) => (features.get(b.id)![i] ? [] : [{ b, v, i }])));
    const fromFeatureCache = missing.length === 0 && video !== undefined;

    let decodeMs = 0;
    let backboneMs = 0;
    let plan0: SamplePlan | undefined;
    if (!fromFeatureCache) {
      const out = await decodeAndEmbed(file, T, missing, infer, ready, models.backbones, onProgress, signal, work);
      decodeMs = out.decodeMs;
      backboneMs = out.backboneMs;
      plan0 = out.plans[0];
      for (const { b, i } of missing) features.get(b.id)![i] = out.features.get(`${b.id}#${i}`)!;
      video = {
        durationS: out.info.durationS,
        width: out.info.width,
        height: out.info.height,
        decoder: out.info.decoder,
        thumbnails: out.thumbnails,
      };
      if (useCache) {
        await featureCache.putVideo(fingerprint, T, video);
        for (const { b, v, i } of missing) {
          const f = features.get(b.id)![i]!;
          await featureCache.putFeatures(keyOf(b, v), { features: f, dim: b.output.dim });
        }
      }
    }
    const { device } = await ready;
    throwIfCancelled(signal);
    const vid = video!;

    // Heads: every TTA view in one batch [V, T, D], then the segment windows of the plain view in one batch.
    onProgress({ stage: 'classifying', fraction: 0 });
    // Windows depend only on T and the duration, so a plan rebuilt from the cached duration gives the same ones.
    const plan = plan0 ?? samplePlan(vid.durationS, { frames: T });
    const windows = segmentWindows(plan, manifest.segments.window, manifest.segments.stride);
    const plainIndex = Math.max(
      0,
      views.findIndex((v) => !v.flip && (v.crop ?? 1) === 1 && (v.shift ?? 0) === 0),
    );
    let headMs = 0;
    const members: MemberOutput[] = [];
    for (const [k, head] of models.heads.entries()) {
      const bb = models.backbones.find((b) => b.id === head.backbone)!;
      const D = bb.output.dim;
      const perView = features.get(bb.id)! as Float32Array[];
      const full = await infer.runHead({ headId: head.id, features: batchViews(perView, T, D), n: views.length, t: T });
      const win = batchWindows(perView[plainIndex]!, windows, D);
      const segs = await infer.runHead({ headId: head.id, features: win.batch, n: windows.length, t: win.length });
      work.headRuns += 2;
      headMs += full.ms + segs.ms;
      members.push(memberOutput(head.id, full, segs, views.length, T));
      onProgress({ stage: 'classifying', fraction: (k + 1) / models.heads.length });
      throwIfCancelled(signal);
    }
    const verdict = buildVerdict(manifest, ensemble, members, windows);
    const result: Result = SuccessResultSchema.parse({
      file: file.name,
      ...verdict,
      models: {
        backbones: models.backbones.map((b) => b.id),
        ensemble: ensemble.id,
        tta: settings.tta,
        provider: providerLabel(device.backboneProvider, device.headProvider, device.threads),
      },
      timingsMs: { decode: decodeMs, backbone: backboneMs, head: headMs, total: performance.now() - tStart },
      video: { durationS: vid.durationS, width: vid.width, height: vid.height, decoder: vid.decoder },
    });
    onProgress({ stage: 'done', fraction: 1 });
    return { result, thumbnails: vid.thumbnails, durationS: vid.durationS, fromFeatureCache, work };
  }

  /** Decodes the plans the views need and runs each backbone on each frame as it arrives. */
  async function decodeAndEmbed(
    file: File,
    T: number,
    missing: Array<{ b: BackboneEntry; v: TtaView; i: number }>,
    infer: InferClient,
    ready: Promise<unknown>,
    backbones: BackboneEntry[],
    onProgress: (p: Progress) => void,
    signal: AbortSignal | undefined,
    work: ClassifyWork,
  ) {
    decoder ??= createDecodeClient();
    const shifts = [...new Set(missing.map((m) => m.v.shift ?? 0))];
    const specs = new Map(missing.map((m) => [spatialKey(m.v), { flip: m.v.flip, crop: m.v.crop } as ViewSpec]));
    // The views a frame needs: those whose shift's plan samples it (the decoder says which, from the
    // plans of the attempt that decoded it), so a shifted frame is not also run flipped and cropped.
    const needs = (frame: DecodedFrame, b: BackboneEntry): ViewSpec[] => {
      const keys = new Set<string>();
      for (const m of missing) if (m.b.id === b.id && frame.shifts.includes(m.v.shift ?? 0)) keys.add(spatialKey(m.v));
      return [...keys].map((k) => specs.get(k)!);
    };

    // byFrame.get(`${backboneId}|${spatialKey}`).get(timestamp) = D floats
    const byFrame = new Map<string, Map<number, Float32Array>>();
    const thumbs = new Map<number, FrameThumbnail>();
    // The decode attempt whose features each timestamp holds: when WebCodecs fails partway, the
    // decoder sends every frame again from ffmpeg.wasm (attempt 1), and those replace the earlier ones.
    const attemptAt = new Map<number, number>();
    let backboneMs = 0;
    let total = 0;
    const inFlight: Promise<void>[] = [];
    let failure: unknown;

    let modelsReady = false;
    ready.then(
      () => (modelsReady = true),
      () => {},
    );
    const embedFrame = async (frame: DecodedFrame) => {
      await ready;
      // Backbones that need the same views of this frame go in one embed call: the pixels cross to
      // the worker once and are resized once for all of them. Each further group (only when the
      // feature cache holds some views of one backbone and not of another) needs its own copy.
      const groups = new Map<string, { ids: string[]; views: ViewSpec[] }>();
      for (const b of backbones) {
        const viewSpecs = needs(frame, b);
        if (viewSpecs.length === 0) continue;
        const key = viewSpecs.map(spatialKey).join(';');
        const g = groups.get(key);
        if (g) g.ids.push(b.id);
        else groups.set(key, { ids: [b.id], views: viewSpecs });
      }
      const list = [...groups.values()];
      for (const [k, { ids, views: viewSpecs }] of list.entries()) {
        const last = k === list.length - 1;
        const rgba: RgbaFrame = { width: frame.width, height: frame.height, data: last ? frame.data : frame.data.slice() };
        const wantThumb = k === 0;
        const r = await infer.embed({
          backboneId: ids[0]!,
          moreBackboneIds: ids.slice(1),
          frames: [rgba],
          views: viewSpecs,
          thumbnailMaxSide: wantThumb ? THUMBNAIL_SIDE : undefined,
        });
        backboneMs += r.backboneMs;
        work.preprocessMs += r.preprocessMs;
        // An earlier attempt's frame finishing after a later one's is work done, not a result.
        const current = (attemptAt.get(frame.timestamp) ?? -1) <= frame.attempt;
        if (current) attemptAt.set(frame.timestamp, frame.attempt);
        for (const part of r.backbones) {
          work.backboneFrames += viewSpecs.length;
          const w = r.worker ?? 0;
          work.backboneFramesPerWorker[w] = (work.backboneFramesPerWorker[w] ?? 0) + viewSpecs.length;
          const runs = (work.backbones[part.backboneId] ??= { runs: 0, ms: 0 });
          runs.runs += viewSpecs.length;
          runs.ms += part.backboneMs;
          if (!current) continue;
          viewSpecs.forEach((s, j) => {
            const key = `${part.backboneId}|${spatialKey(s)}`;
            if (!byFrame.has(key)) byFrame.set(key, new Map());
            byFrame.get(key)!.set(frame.timestamp, part.features[j]!);
          });
        }
        const t = r.thumbnails?.[0];
        if (t && current)
          thumbs.set(frame.timestamp, {
            t: frame.actualTimestamp,
            width: t.width,
            height: t.height,
            data: new Uint8ClampedArray(t.data.buffer),
          });
      }
      if (total > 0) onProgress({ stage: 'features', fraction: Math.min(1, attemptAt.size / total) });
    };

    onProgress({ stage: 'decoding', fraction: 0 });
    const tDecode = performance.now();
    // Time the decoder spent held back by the backbone (back-pressure): not decoding, so not in `decode`.
    let heldMs = 0;
    // A failed frame (the models failed to load, or the backbone) ends the decode: nothing after it
    // can be used. The caller's cancel is forwarded by hand (AbortSignal.any is missing before Safari 17.4).
    const stop = new AbortController();
    const forward = () => stop.abort();
    if (signal?.aborted) stop.abort();
    signal?.addEventListener('abort', forward, { once: true });
    const out = await decoder
      .decode(
        file,
        { frames: T, shifts, forceDecoder: options.forceDecoder },
        {
          signal: stop.signal,
          onProgress: (p) => {
            total = p.total;
            onProgress({ stage: 'decoding', fraction: p.done / p.total });
          },
          onFrame: async (frame) => {
            work.decodedFrames++;
            const job = embedFrame(frame).catch((e) => {
              failure ??= e;
              stop.abort();
            });
            inFlight.push(job);
            // Back-pressure: the decoder waits for this promise before sending the next frame. While
            // the models load, frames wait here, up to FRAME_BYTES_WHILE_LOADING of them.
            const limit = modelsReady
              ? MAX_FRAMES_IN_FLIGHT
              : Math.max(MAX_FRAMES_IN_FLIGHT, Math.floor(FRAME_BYTES_WHILE_LOADING / Math.max(1, frame.data.byteLength)));
            if (inFlight.length > limit) {
              const t = performance.now();
              await inFlight[inFlight.length - 1 - limit];
              heldMs += performance.now() - t;
            }
          },
        },
      )
      .catch(async (e) => {
        await Promise.allSettled(inFlight);
        throw failure ?? e;
      })
      .finally(() => signal?.removeEventListener('abort', forward));
    const decodeMs = performance.now() - tDecode - heldMs;
    total = out.unique.length;
    // Decoded before the models are ready (the first file of a visit): say what the file waits for.
    onProgress({
      stage: 'features',
      fraction: Math.min(1, attemptAt.size / total),
      ...(modelsReady ? {} : { detail: WAITING_FOR_MODELS }),
    });
    await Promise.all(inFlight);
    if (failure) throw failure;
    throwIfCancelled(signal);

    const result = new Map<string, Float32Array>();
    for (const { b, v, i } of missing) {
      const p = out.plans[out.shifts.indexOf(v.shift ?? 0)];
      const rows = byFrame.get(`${b.id}|${spatialKey(v)}`);
      const D = b.output.dim;
      const m = new Float32Array(T * D);
      p?.timestamps.forEach((ts, row) => {
        const f = rows?.get(ts);
        if (!f)
          throw new VidkindError('internal', `No features for the frame at ${ts} s (view ${v.id}): the decoder sent no frame for it.`);
        m.set(f, row * D);
      });
      if (!p) throw new VidkindError('internal', `The decoder returned no plan for shift ${v.shift}.`);
      result.set(`${b.id}#${i}`, m);
    }
    const thumbnails = [...new Set(out.plans[0]!.timestamps)].flatMap((ts) => thumbs.get(ts) ?? []);
    return { features: result, plans: out.plans, info: out.info as VideoInfo, decodeMs, backboneMs, thumbnails };
  }

  /** Whether the one-time start-up costs are paid (by the warm-up clip or a file). */
  let warm = false;
  let warming: AbortController | null = null;

  /**
   * Once every inference worker has its models, runs the warm-up clip (options.warmUpClip) through
   * the decoder and the backbones: its two frames go one to each worker. Skipped when done, going
   * on, not wanted, or a file is being classified. Never fails: a warm-up that fails or is cut short
   * only leaves the costs to the first file.
   */
  async function warmUp(settings: ClassifySettings): Promise<void> {
    if (!options.warmUpClip || warm || warming) return;
    const controller = new AbortController();
    warming = controller;
    try {
      const clip = await options.warmUpClip();
      const { infer: client, models } = await prepare(settings);
      const ready = ensure(settings);
      await ready;
      await client.whenAllLoaded();
      throwIfCancelled(controller.signal);
      const missing = models.backbones.map((b) => ({ b, v: IDENTITY, i: 0 }));
      await decodeAndEmbed(clip, 2, missing, client, ready, models.backbones, () => {}, controller.signal, emptyWork());
      warm = true;
    } catch {
      // Cut short by a file, or the clip could not be read: the first file pays the costs instead.
    } finally {
      if (warming === controller) warming = null;
    }
  }

  return {
    async manifest() {
      return (await manifestOnce()).manifest;
    },
    async init(settings, onModelProgress) {
      const { loaded, device } = await ensure(settings, onModelProgress);
      if (running === 0) {
        infer?.loadOtherWorkers();
        void warmUp(settings);
      }
      return { manifest: loaded.manifest, device: deviceInfo(device) };
    },
    async whenAllLoaded() {
      await infer?.whenAllLoaded();
    },
    async classify(file, settings, opts = {}) {
      const onProgress = opts.onProgress ?? (() => undefined);
      running++;
      // A file warms everything up itself: a warm-up going on would only compete with it.
      warm = true;
      warming?.abort();
      try {
        throwIfCancelled(opts.signal);
        return await run(file, settings, onProgress, opts.signal);
      } catch (e) {
        const error = opts.signal?.aborted ? { code: 'cancelled' as const, message: 'Cancelled.' } : toErrorInfo(e);
        onProgress({ stage: error.code === 'cancelled' ? 'cancelled' : 'error', fraction: 1, detail: error.message });
        return {
          result: { file: file.name, error },
          thumbnails: [],
          durationS: 0,
          fromFeatureCache: false,
          work: emptyWork(),
        };
      } finally {
        // Idle now: the other inference worker can start without slowing a file (infer-client).
        if (--running === 0) infer?.loadOtherWorkers();
      }
    },
    async clearModelCache() {
      await clearModelCache();
      await featureCache.clear();
      // Sessions stay loaded: they were verified and remain valid until the manifest changes.
      manifestLoad = undefined;
      modelsLoad = undefined;
    },
    useModels(picked) {
      folder = picked;
      source++;
      manifestLoad = undefined;
      modelsLoad = undefined;
    },
    dispose() {
      infer?.dispose();
      decoder?.dispose();
      infer = undefined;
      decoder = undefined;
    },
  };
}
