/**
 * The classifier's lifecycle as the UI sees it: loading models (with download progress and cache
 * notes), what device ran, and load failures in plain words. The pipeline itself lives in src/lib.
 */
import warmUpUrl from '../warm-up.mp4?no-inline';
import { toErrorInfo, type ErrorInfo } from '../../core/errors';
import { chosenEnsemble, ensembleModels } from '../../core/manifest';
import type { Classifier, ClassifySettings, DeviceInfo, Manifest, ModelLoadProgress } from '../../lib/classifier-types';
import { forgetModels, keepModels, keptModels, type KeptFolder } from '../../lib/kept-models';
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
   * `card`: an object URL of the folder's MODEL_CARD.md, when it has one; `kept`: stored in this
   * browser for the next visits (once they loaded); `keepError`: why they could not be;
   * `earlierVisit`: these are models kept from an earlier visit.
   */
  folder: { name: string; version: string; card?: string; kept: boolean; keepError?: string; earlierVisit: boolean } | null;
  /** Models kept from an earlier visit that could not be used (or forgotten), in plain words. */
  keptError: string | null;
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
  keptError: null,
  cacheCleared: false,
});

/** Which models: 0 for the site's own, bumped at every switch (useFolderModels / useSiteModels). */
let source = 0;

let classifier: Classifier | null = null;
let loading: Promise<Classifier> | null = null;
/** The folder models to keep in this browser once they have loaded (set by a pick, not by a restore). */
let toKeep: Omit<KeptFolder, 'keptAt'> | null = null;
let restoring: Promise<void> | null = null;

/** The clip the classifier runs once while idle after the models load (scripts/make-warm-up-clip.sh). */
async function warmUpClip(): Promise<File> {
  const res = await fetch(warmUpUrl);
  if (!res.ok) throw new Error(`warm-up clip: HTTP ${res.status}`);
  return new File([await res.blob()], 'warm-up.mp4', { type: 'video/mp4' });
}

async function instance(): Promise<Classifier> {
  if (classifier) return classifier;
  // Loaded on demand: the pipeline (and onnxruntime-web behind it) stays out of the first paint.
  const { createClassifier } = await import('../../lib/classifier');
  const created = createClassifier({ warmUpClip });
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
  await restoreKeptModels();
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
      const { backbones, heads } = ensembleModels(manifest, chosenEnsemble(manifest, settings.ensemble));
      for (const e of [...backbones, ...heads])
        if (!pipeline.files.some((f) => f.file === e.file))
          pipeline.files.push({ file: e.file, loadedBytes: e.bytes, totalBytes: e.bytes, fromCache: false, reused: true });
      pipeline.manifest = manifest;
      pipeline.device = device;
      pipeline.loadedFor = wanted;
      pipeline.status = 'ready';
      if (toKeep) keep(toKeep);
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
  await restoreKeptModels();
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
 * Runs the models of a folder the user picked (what `vidkind export` wrote) instead of the site's:
 * checked like downloaded ones, read from disk, never uploaded. Once they have loaded they are kept
 * in this browser (kept-models.ts) and run again on the next visits, until the site's models are
 * chosen. The caller loads them (readyClassifier) with the settings reset to their default
 * ensemble. Rejects with an ErrorInfo (no manifest.json, an invalid one, a model file missing) and
 * then changes nothing.
 */
export async function useFolderModels(picked: FolderFile[], earlierVisit = false): Promise<void> {
  let loaded: LoadedManifest;
  let needed: Omit<KeptFolder, 'keptAt'>;
  try {
    const { keptFiles, loadManifestFromFolder } = await import('../../lib/model-store');
    loaded = await loadManifestFromFolder(picked);
    needed = keptFiles(loaded);
  } catch (error) {
    throw toErrorInfo(error);
  }
  const c = await instance();
  // Other models were chosen while the kept ones were read: the choice stands.
  if (earlierVisit && source !== 0) return;
  c.useModels(loaded);
  const card = loaded.folder!.files.get('MODEL_CARD.md');
  switched(loaded.manifest, {
    name: loaded.folder!.name,
    version: loaded.manifest.version,
    card: card ? URL.createObjectURL(new Blob([card], { type: 'text/plain;charset=utf-8' })) : undefined,
    kept: earlierVisit,
    earlierVisit,
  });
  // What was kept before is not what runs now: forgotten until the new folder has loaded.
  if (!earlierVisit) {
    forget();
    toKeep = needed;
  }
}

/**
 * Runs the models kept from an earlier visit, if any, before the first load of the page (every
 * load waits for it). When they cannot be used any more, they are forgotten and the site's models
 * run, with `keptError` saying so.
 */
export function restoreKeptModels(): Promise<void> {
  restoring ??= (async () => {
    let kept: Awaited<ReturnType<typeof keptModels>>;
    try {
      kept = await keptModels();
    } catch (error) {
      pipeline.keptError = `Models kept in this browser from an earlier visit could not be used (${(error as Error).message}), so the site's models are used.`;
      forget();
      return;
    }
    if (!kept) return;
    try {
      await useFolderModels(kept.files, true);
    } catch (error) {
      pipeline.keptError = `Your models “${kept.name}”, kept in this browser from an earlier visit, could not be used (${(error as ErrorInfo).message}), so the site's models are used. Pick the folder again to use yours.`;
      forget();
    }
  })();
  return restoring;
}

/** Stores the folder models that just loaded, unless other models were chosen meanwhile. */
function keep(kept: Omit<KeptFolder, 'keptAt'>): void {
  toKeep = null;
  const at = source;
  keepModels(kept).then(
    () => {
      if (at === source && pipeline.folder) pipeline.folder.kept = true;
    },
    (error: Error) => {
      if (at === source && pipeline.folder) pipeline.folder.keepError = error.message;
    },
  );
}

function forget(): void {
  forgetModels().catch((error: Error) => {
    pipeline.keptError = `The models kept in this browser could not be removed (${error.message}); they may be used again on your next visit.`;
  });
}

/** Back to the site's own models after useFolderModels. */
export async function useSiteModels(): Promise<void> {
  (await instance()).useModels(null);
  switched(null, null);
  forget();
}

function switched(manifest: Manifest | null, folder: PipelineState['folder']): void {
  source++;
  toKeep = null;
  pipeline.keptError = null;
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
