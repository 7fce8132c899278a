/**
 * The bench's page: the app's real classifier pipeline (src/lib/classifier.ts: decode worker,
 * inference worker, model store, feature cache), driven by bench/browser.ts through
 * `window.vidkindBench`. Files come from a file input that Playwright fills with paths on disk,
 * exactly as a person's picked files arrive: disk-backed `File`s, never copied into the page.
 */
import { detectCapabilities } from '../../src/lib/capabilities';
import type { Backend, ClassifySettings } from '../../src/lib/classifier-types';

type ClassifierModule = typeof import('../../src/lib/classifier');
type BenchClassifier = ReturnType<ClassifierModule['createClassifier']>;

export interface ClassifyRun {
  ok: boolean;
  error?: { code: string; message: string };
  /** Wall time of `classify` in this page (includes model loading when the models were not ready). */
  wallMs: number;
  timingsMs?: { decode: number; backbone: number; head: number; total: number };
  work?: { decodedFrames: number; backboneFrames: number; headRuns: number; preprocessMs: number };
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

const api = {
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
