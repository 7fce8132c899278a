/**
 * Inference-stage diagnostics: the classifier, the infer worker and the caches, callable from the
 * devtools console or an e2e test, returning plain data ({error} instead of throwing).
 */
import { toErrorInfo, type ErrorInfo } from '../core/errors';
import type { BackboneEntry, HeadEntry } from '../core/manifest';
import type { ClassifySettings } from '../lib/classifier-types';
import { createClassifier, type ClassifierOptions } from '../lib/classifier';
import { featureCache } from '../lib/feature-cache';
import { createInferClient, type InferConfig } from '../lib/infer-client';
import { clearModelCache, fetchModel, loadManifest } from '../lib/model-store';

export type Outcome<T> = T | { error: ErrorInfo };

const classifiers = new Map<string, ReturnType<typeof createClassifier>>();

/** One classifier per options (kept, so a second call is warm: sessions loaded, worker started). */
export function classifier(options: ClassifierOptions = {}): ReturnType<typeof createClassifier> {
  const key = JSON.stringify(options);
  if (!classifiers.has(key)) classifiers.set(key, createClassifier(options));
  return classifiers.get(key)!;
}

export const defaultSettings: ClassifySettings = { frames: 32, tta: false, backend: 'auto' };

/** Loads manifest + models for these settings. */
export async function init(settings: Partial<ClassifySettings> = {}, options: ClassifierOptions = {}) {
  const progress: Array<{ file: string; loadedBytes: number; totalBytes: number; fromCache: boolean }> = [];
  try {
    const c = classifier(options);
    const { manifest, device } = await c.init({ ...defaultSettings, ...settings }, (p) => progress.push(p));
    // The second inference worker loads in the background: tests that count what each worker ran wait for it.
    await c.whenAllLoaded();
    return { version: manifest.version, device, progress };
  } catch (e) {
    return { error: toErrorInfo(e), progress };
  }
}

/** Classifies a file; thumbnails are summarised (count and sizes) to keep the answer small. */
export async function classify(file: File, settings: Partial<ClassifySettings> = {}, options: ClassifierOptions = {}) {
  const stages: string[] = [];
  const out = await classifier(options).classify(file, { ...defaultSettings, ...settings }, { onProgress: (p) => stages.push(p.stage) });
  return {
    result: out.result,
    fromFeatureCache: out.fromFeatureCache,
    durationS: out.durationS,
    work: out.work,
    thumbnails: out.thumbnails.map((t) => ({ t: t.t, width: t.width, height: t.height })),
    stages: [...new Set(stages)],
  };
}

/** Classifies and cancels after `afterMs`. */
export async function classifyAndCancel(
  file: File,
  afterMs: number,
  settings: Partial<ClassifySettings> = {},
  options: ClassifierOptions = {},
) {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), afterMs);
  const out = await classifier(options).classify(file, { ...defaultSettings, ...settings }, { signal: controller.signal });
  return out.result;
}

/**
 * Runs one backbone on raw RGBA frames and one head on given features through a fresh infer worker
 * (for parity with onnxruntime-node): no decoding, no caches.
 */
export async function runModels(
  config: InferConfig,
  request: {
    manifestUrl?: string;
    backboneId?: string;
    frames?: Array<{ width: number; height: number; data: number[] }>;
    headId?: string;
    features?: number[];
    n?: number;
    t?: number;
  },
): Promise<Outcome<{ embedding?: number[]; logits?: number[]; subLogits?: number[]; attention?: number[]; provider: string }>> {
  const client = createInferClient(config);
  try {
    const loaded = await loadManifest(request.manifestUrl);
    const backbones: BackboneEntry[] = loaded.manifest.backbones.filter((b) => b.id === request.backboneId);
    const heads: HeadEntry[] = loaded.manifest.heads.filter((h) => h.id === request.headId);
    await client.ensureModels(loaded, { backbones, heads });
    const device = await client.device();
    const out: { embedding?: number[]; logits?: number[]; subLogits?: number[]; attention?: number[]; provider: string } = {
      provider: device.backboneProvider,
    };
    if (request.backboneId && request.frames) {
      const frames = request.frames.map((f) => ({ width: f.width, height: f.height, data: Uint8ClampedArray.from(f.data) }));
      const r = await client.embed({ backboneId: request.backboneId, frames, views: [{}] });
      out.embedding = Array.from(r.features[0]!);
    }
    if (request.headId && request.features) {
      const r = await client.runHead({
        headId: request.headId,
        features: Float32Array.from(request.features),
        n: request.n ?? 1,
        t: request.t ?? 1,
      });
      out.logits = Array.from(r.logits);
      out.subLogits = r.subLogits && Array.from(r.subLogits);
      out.attention = r.attention && Array.from(r.attention);
    }
    return out;
  } catch (e) {
    return { error: toErrorInfo(e) };
  } finally {
    client.dispose();
  }
}

/** Downloads and verifies one model file through the model store (as the classifier does). */
export async function fetchModelBytes(id: string, manifestUrl?: string): Promise<Outcome<{ bytes: number }>> {
  try {
    const loaded = await loadManifest(manifestUrl);
    const entry = [...loaded.manifest.backbones, ...loaded.manifest.heads].find((e) => e.id === id);
    if (!entry) return { error: { code: 'invalid-manifest', message: `No model "${id}".` } };
    return { bytes: (await fetchModel(loaded, entry)).byteLength };
  } catch (e) {
    return { error: toErrorInfo(e) };
  }
}

/** Cached model keys (Cache API), for checking versioned keys. */
export async function cachedModelKeys(): Promise<string[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open('vidkind-models');
  return (await cache.keys()).map((r) => r.url);
}

/** The "clear cached models" action, plus the feature cache. */
export async function clearCaches(): Promise<void> {
  await clearModelCache();
  await featureCache.clear();
}

/** Disposes every classifier (workers end). */
export function disposeAll(): void {
  for (const c of classifiers.values()) c.dispose();
  classifiers.clear();
}
