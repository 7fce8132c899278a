/**
 * The classifier's lifecycle as the UI sees it: loading models (with download progress and cache
 * notes), what device ran, and load failures in plain words. The pipeline itself lives in src/lib.
 */
import { toErrorInfo, type ErrorInfo } from '../../core/errors';
import { ensembleModels, pickEnsemble } from '../../core/manifest';
import type { Classifier, ClassifySettings, DeviceInfo, Manifest, ModelLoadProgress } from '../../lib/classifier-types';
import type { FolderFile, LoadedManifest } from '../../lib/model-store';

export type ModelsStatus = 'idle' | 'loading' | 'ready' | 'error';

interface PipelineState {
  status: ModelsStatus;
  /** Download progress per model file, in arrival order. */
  files: ModelLoadProgress[];
  manifest: Manifest | null;
  device: DeviceInfo | null;
  error: ErrorInfo | null;
  /** The settings the loaded models match; a change of backend, ensemble or models folder reloads. */
  loadedFor: { backend: string; ensemble: string | undefined; source: number } | null;
  /**
   * Models picked from a folder on this device (useFolderModels), or null for the site's own;
   * `card`: an object URL of the folder's MODEL_CARD.md, when it has one.
   */
  folder: { name: string; version: string; card?: string } | null;
  /** Set after "clear cached models" succeeded. */
  cacheCleared: boolean;
}

export const pipeline: PipelineState = $state({
  status: 'idle',
  files: [],
  manifest: null,
  device: null,
  error: null,
  loadedFor: null,
  folder: null,
  cacheCleared: false,
});

/** Which models: 0 for the site's own, bumped at every switch (useFolderModels / useSiteModels). */
let source = 0;

let classifier: Classifier | null = null;
let loading: Promise<Classifier> | null = null;

async function instance(): Promise<Classifier> {
  if (classifier) return classifier;
  // Loaded on demand: the pipeline (and onnxruntime-web behind it) stays out of the first paint.
  const { createClassifier } = await import('../../lib/classifier');
  const created = createClassifier();
  classifier = created;
  return created;
}

function onModelProgress(p: ModelLoadProgress): void {
  const i = pipeline.files.findIndex((f) => f.file === p.file);
  if (i >= 0) pipeline.files[i] = p;
  else pipeline.files.push(p);
}

/** The classifier, with models loaded for these settings; loads (again) when needed. Rejects with an ErrorInfo. */
export async function readyClassifier(settings: ClassifySettings): Promise<Classifier> {
  const wanted = { backend: settings.backend, ensemble: settings.ensemble, source };
  const same = (a: PipelineState['loadedFor']) =>
    a !== null && a.backend === wanted.backend && a.ensemble === wanted.ensemble && a.source === wanted.source;
  if (pipeline.status === 'ready' && same(pipeline.loadedFor)) return instance();
  if (loading) {
    const c = await loading;
    if (same(pipeline.loadedFor)) return c;
  }
  loading = (async () => {
    pipeline.status = 'loading';
    pipeline.error = null;
    pipeline.files = [];
    pipeline.cacheCleared = false;
    try {
      const c = await instance();
      const { manifest, device } = await c.init(settings, onModelProgress);
      // Models switched meanwhile: the load for the new ones says how it went.
      if (wanted.source !== source) return c;
      // Models the workers already held (a backbone shared with the models used before) report no
      // loading: list them too, so the panel names every model in use.
      const { backbones, heads } = ensembleModels(manifest, pickEnsemble(manifest, settings.ensemble));
      for (const e of [...backbones, ...heads])
        if (!pipeline.files.some((f) => f.file === e.file))
          pipeline.files.push({ file: e.file, loadedBytes: e.bytes, totalBytes: e.bytes, fromCache: false, reused: true });
      pipeline.manifest = manifest;
      pipeline.device = device;
      pipeline.loadedFor = wanted;
      pipeline.status = 'ready';
      return c;
    } catch (error) {
      const info = toErrorInfo(error);
      if (wanted.source !== source) throw info;
      pipeline.error =
        info.code === 'internal' && /classifier|Failed to fetch dynamically imported module/i.test(info.message)
          ? { code: 'model-load', message: `The classification pipeline could not be loaded: ${info.message}` }
          : info;
      pipeline.status = 'error';
      pipeline.loadedFor = null;
      throw pipeline.error;
    } finally {
      loading = null;
    }
  })();
  return loading;
}

/**
 * The classifier for one file: starts loading the models for these settings (as readyClassifier)
 * without waiting for them, and resolves once the manifest is known, so that the first file of a
 * visit decodes while the models download and their sessions are created (the classifier's frames
 * wait for them). Rejects with an ErrorInfo, as readyClassifier does, when the pipeline or the
 * manifest cannot be loaded.
 */
export async function classifierForFile(settings: ClassifySettings): Promise<Classifier> {
  const ready = readyClassifier(settings);
  ready.catch(() => {});
  if (pipeline.status === 'ready') return ready;
  try {
    const c = await instance();
    // 'auto' frames resolve from the manifest (settings.svelte.ts modelFrames).
    pipeline.manifest ??= await c.manifest();
    return c;
  } catch {
    // The load fails the same way (same module, same manifest) and says so in plain words.
    return await ready;
  }
}

/**
 * Runs the models of a folder the user picked (what `vidkind export` wrote) instead of the site's,
 * for this visit: checked like downloaded ones, read from disk, never stored or uploaded. The
 * caller loads them (readyClassifier) with the settings reset to their default ensemble. Rejects
 * with an ErrorInfo (no manifest.json, an invalid one, a model file missing) and then changes nothing.
 */
export async function useFolderModels(picked: FolderFile[]): Promise<void> {
  let loaded: LoadedManifest;
  try {
    const { loadManifestFromFolder } = await import('../../lib/model-store');
    loaded = await loadManifestFromFolder(picked);
  } catch (error) {
    throw toErrorInfo(error);
  }
  (await instance()).useModels(loaded);
  const card = loaded.folder!.files.get('MODEL_CARD.md');
  switched(loaded.manifest, {
    name: loaded.folder!.name,
    version: loaded.manifest.version,
    card: card ? URL.createObjectURL(new Blob([card], { type: 'text/plain;charset=utf-8' })) : undefined,
  });
}

/** Back to the site's own models after useFolderModels. */
export async function useSiteModels(): Promise<void> {
  (await instance()).useModels(null);
  switched(null, null);
}

function switched(manifest: Manifest | null, folder: PipelineState['folder']): void {
  source++;
  if (pipeline.folder?.card) URL.revokeObjectURL(pipeline.folder.card);
  pipeline.folder = folder;
  pipeline.manifest = manifest;
  pipeline.status = 'idle';
  pipeline.loadedFor = null;
  pipeline.error = null;
  pipeline.files = [];
  pipeline.cacheCleared = false;
}

/** Deletes downloaded models from this browser; they are fetched again on next use. */
export async function clearCachedModels(): Promise<void> {
  const c = await instance();
  await c.clearModelCache();
  // The service worker's precache holds the site's copy of the models too: drop those entries.
  if (typeof caches !== 'undefined') {
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) if (URL.parse(request.url)?.pathname.includes('/models/')) await cache.delete(request);
    }
  }
  pipeline.status = 'idle';
  pipeline.loadedFor = null;
  pipeline.files = [];
  pipeline.cacheCleared = true;
}
