/**
 * The bench's page: the app's real classifier pipeline (src/lib/classifier.ts: decode worker,
 * inference worker, model store, feature cache), driven by bench/browser.ts through
 * `window.vidkindBench`. Files come from a file input that Playwright fills with paths on disk,
 * exactly as a person's picked files arrive: disk-backed `File`s, never copied into the page.
 */
import { detectCapabilities } from '../../src/lib/capabilities';
import type { Backend, ClassifySettings } from '../../src/lib/classifier-types';
/** One probe worker per onnxruntime-web setting (threads and build are fixed per worker). */
import type { Setup as ProbeSetup } from './probe.worker';

type ClassifierModule = typeof import('../../src/lib/classifier');
type BenchClassifier = ReturnType<ClassifierModule['createClassifier']>;

export interface ClassifyRun {
  ok: boolean;
  error?: { code: string; message: string };
  /** Wall time of `classify` in this page (includes model loading when the models were not ready). */
  wallMs: number;
  timingsMs?: { decode: number; backbone: number; head: number; total: number };
  work?: {
    decodedFrames: number;
    backboneFrames: number;
    headRuns: number;
    preprocessMs: number;
    backbones?: Record<string, { runs: number; ms: number }>;
  };
  fromFeatureCache?: boolean;
  label?: string;
  decoder?: string;
  provider?: string;
  jsHeapUsedBytes?: number;
}

let classifier: BenchClassifier | null = null;
let settings: ClassifySettings = { frames: 32, tta: false, backend: 'wasm' };
/** The site's models; the bench may point at another models folder (see bench/run.ts). */
const siteManifestUrl = new URL('../../models/manifest.json', location.href).href;

function files(): Map<string, File> {
  const input = document.getElementById('files') as HTMLInputElement;
  return new Map([...(input.files ?? [])].map((f) => [f.name, f]));
}

function heap(): number | undefined {
  return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
}

function probeWorker(): { call<T>(msg: unknown): Promise<T>; end(): void } {
  const w = new Worker(new URL('./probe.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-probe' });
  return {
    call: <T>(msg: unknown) =>
      new Promise<T>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<{ ok: boolean; error?: string } & T>) =>
          e.data.ok ? resolve(e.data) : reject(new Error(e.data.error));
        w.postMessage(msg);
      }),
    end: () => w.terminate(),
  };
}

/** Runs one decode job in a fresh probe-decode worker. */
function probeDecode(job: { file: File; timestamps: number[]; mode: 'decode' | 'draw' | 'copy'; width?: number; height?: number }) {
  const w = new Worker(new URL('./probe-decode.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-probe-decode' });
  return new Promise<{ openMs: number; totalMs: number; drawMs: number; frames: number }>((resolve, reject) => {
    w.onmessage = (e) => {
      w.terminate();
      if (e.data.ok) resolve(e.data);
      else reject(new Error(e.data.error));
    };
    w.postMessage(job);
  });
}

const inferClients = new Map<number, import('../../src/lib/infer-client').InferClient>();

/** Stage probes for bench/pieces.ts: each piece of the pipeline timed on its own, settings alternated. */
const pieces = {
  /** One classify in a new classifier: in a fresh browser context this is a first visit (models downloaded, sessions created). */
  async coldClassify(name: string, backboneWorkers: number, frames = 16) {
    const picked = files().get(name);
    if (!picked) throw new Error(`no picked file named ${name}`);
    const { createClassifier } = await import('../../src/lib/classifier');
    const c = createClassifier({ manifestUrl: siteManifestUrl, threads: 1, backboneWorkers, featureCache: false });
    try {
      const t = performance.now();
      const out = await c.classify(picked, { frames, tta: false, backend: 'wasm' });
      if ('error' in out.result) throw new Error(out.result.error.message);
      return { wallMs: performance.now() - t, perWorker: out.work.backboneFramesPerWorker };
    } finally {
      c.dispose();
    }
  },
  /** session.run alone on a fixed tensor, one worker per setup, `rounds` x `runs` runs alternating between setups. */
  async ortRun(setups: ProbeSetup[], runs: number, rounds: number) {
    const workers = setups.map(() => probeWorker());
    try {
      const info = [];
      for (const [i, w] of workers.entries())
        info.push(
          await w.call<Record<string, unknown>>({
            op: 'setup',
            setup: { ...setups[i]!, modelUrl: new URL(setups[i]!.modelUrl, siteManifestUrl).href },
          }),
        );
      const times: number[][] = setups.map(() => []);
      // One warm-up run per worker (WebAssembly tier-up, first allocations).
      for (const w of workers) await w.call({ op: 'run', runs: 2 });
      for (let r = 0; r < rounds; r++)
        for (const [i, w] of workers.entries()) times[i]!.push(...(await w.call<{ times: number[] }>({ op: 'run', runs })).times);
      return { info, times };
    } finally {
      for (const w of workers) w.end();
    }
  },
  /** mediabunny samplesAtTimestamps alone ('decode') or with draw + getImageData ('draw'), on a picked file. */
  async decode(name: string, timestamps: number[], mode: 'decode' | 'draw' | 'copy', size?: { width: number; height: number }) {
    const file = files().get(name);
    if (!file) throw new Error(`no picked file named ${name}`);
    return probeDecode({ file, timestamps, mode, ...size });
  },
  /**
   * The app's inference worker (infer-client, the shipped backbones, `threads` WASM threads):
   * `rounds` x `runs` session.run calls per backbone on a fixed input, backbones alternating.
   */
  async inferBackbones(threads: number, runs: number, rounds: number, batch = 1) {
    const [{ createInferClient }, { loadManifest }] = await Promise.all([
      import('../../src/lib/infer-client'),
      import('../../src/lib/model-store'),
    ]);
    // Kept per thread count, so that rounds alternate with other work without new sessions.
    let client = inferClients.get(threads);
    if (!client) inferClients.set(threads, (client = createInferClient({ backend: 'wasm', threads })));
    {
      const loaded = await loadManifest(siteManifestUrl);
      const backbones = loaded.manifest.backbones;
      await client.ensureModels(loaded, { backbones, heads: [] });
      const device = await client.device();
      const times: Record<string, number[]> = Object.fromEntries(backbones.map((b: { id: string }) => [b.id, []]));
      for (const b of backbones) await client.timeBackbone(b.id, 1, batch);
      for (let r = 0; r < rounds; r++)
        for (const b of backbones) times[b.id]!.push(...(await client.timeBackbone(b.id, runs, batch)).runMs.map((x) => x / batch));
      return { device, times };
    }
  },
  /**
   * The whole classify (decode worker + infer worker(s), default ensemble, no TTA, no feature cache)
   * for each pipeline variant in turn (WASM threads, backbone workers), `rounds` times, under fresh names.
   */
  async classifyVariants(
    name: string,
    variants: Array<{ threads: number; backboneWorkers?: number | 'auto' }>,
    rounds: number,
    frames = settings.frames,
  ) {
    const picked = files().get(name);
    if (!picked) throw new Error(`no picked file named ${name}`);
    const { createClassifier } = await import('../../src/lib/classifier');
    const cs = variants.map((v) => createClassifier({ manifestUrl: siteManifestUrl, ...v, featureCache: false }));
    const s: ClassifySettings = { frames, tta: false, backend: 'wasm' };
    try {
      for (const c of cs) await c.classify(new File([picked], `warm-${name}`), s);
      const runs: Array<Array<{ wallMs: number; timings: unknown; work: unknown }>> = cs.map(() => []);
      for (let r = 0; r < rounds; r++)
        for (const [i, c] of cs.entries()) {
          const t = performance.now();
          const out = await c.classify(new File([picked], `r${r}-${i}-${name}`), s);
          if ('error' in out.result) throw new Error(out.result.error.message);
          runs[i]!.push({ wallMs: performance.now() - t, timings: out.result.timingsMs, work: out.work });
        }
      return runs;
    } finally {
      for (const c of cs) c.dispose();
    }
  },
  disposeInferClients(): void {
    for (const c of inferClients.values()) c.dispose();
    inferClients.clear();
  },
  /** The app's decode worker (decode-client) alone: frames streamed and dropped. */
  async decodeClient(name: string, frames: number, maxSide?: number, skipDisposable?: boolean) {
    const file = files().get(name);
    if (!file) throw new Error(`no picked file named ${name}`);
    const { createDecodeClient } = await import('../../src/lib/decode-client');
    const client = createDecodeClient();
    try {
      const t = performance.now();
      const out = await client.decode(file, { frames, maxSide, skipDisposable }, { onFrame: () => undefined });
      return { wallMs: performance.now() - t, timings: out.timingsMs, unique: out.unique.length, skippedPackets: out.skippedPackets };
    } finally {
      client.dispose();
    }
  },
};

const api = {
  pieces,
  detectCapabilities,
  /** Fresh pipeline (new workers): threads and backend are fixed per inference worker. */
  async setup(opts: { threads?: number; backend?: Backend; featureCache?: boolean; frames?: number; manifestUrl?: string }): Promise<void> {
    classifier?.dispose();
    const { createClassifier } = await import('../../src/lib/classifier');
    const manifestUrl = opts.manifestUrl ? new URL(opts.manifestUrl, location.href).href : siteManifestUrl;
    classifier = createClassifier({ manifestUrl, threads: opts.threads, featureCache: opts.featureCache ?? true });
    settings = { frames: opts.frames ?? 32, tta: false, backend: opts.backend ?? 'wasm' };
  },
  /** Loads manifest + models and creates sessions; returns wall ms and the device. */
  async init(): Promise<{ ms: number; device?: unknown; error?: string }> {
    const t = performance.now();
    try {
      const { device } = await classifier!.init(settings);
      return { ms: performance.now() - t, device };
    } catch (e) {
      return { ms: performance.now() - t, error: e instanceof Error ? e.message : String(e) };
    }
  },
  /**
   * Classifies one picked file. `as` renames it (a new `File` over the same bytes on disk), which
   * gives it a new fingerprint: a repeat is then a feature-cache miss, like a new upload.
   */
  async classify(name: string, as?: string): Promise<ClassifyRun> {
    const picked = files().get(name);
    if (!picked) return { ok: false, wallMs: 0, error: { code: 'bench', message: `no picked file named ${name}` } };
    const file = as ? new File([picked], as, { type: picked.type, lastModified: Date.now() }) : picked;
    const t = performance.now();
    const out = await classifier!.classify(file, settings);
    const wallMs = performance.now() - t;
    const r = out.result;
    if ('error' in r) return { ok: false, wallMs, error: r.error, jsHeapUsedBytes: heap() };
    const res = r as typeof r & { video?: { decoder?: string }; models: { provider?: string } };
    return {
      ok: true,
      wallMs,
      timingsMs: r.timingsMs,
      work: out.work,
      fromFeatureCache: out.fromFeatureCache,
      label: r.label,
      decoder: res.video?.decoder,
      provider: res.models.provider,
      jsHeapUsedBytes: heap(),
    };
  },
  dispose(): void {
    classifier?.dispose();
    classifier = null;
  },
};

declare global {
  interface Window {
    vidkindBench: typeof api;
  }
}

const input = document.createElement('input');
input.type = 'file';
input.multiple = true;
input.id = 'files';
input.dataset.testid = 'bench-files';
document.body.append(input);
window.vidkindBench = api;
document.getElementById('log')!.textContent = 'ready';
