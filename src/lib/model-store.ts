/**
 * Model files: the manifest, then each model downloaded with progress, checked against its sha256
 * and kept in the Cache API under a key versioned by `manifest.version`. A file whose hash does not
 * match is refused (`model-integrity`) and never stored or run. Works on pages and in workers.
 * Models can also come from a folder the user picks (what `vidkind export` wrote): read from disk,
 * checked the same way, never cached or sent anywhere.
 */
import { VidkindError } from '../core/errors';
import { parseManifest, sha256Hex, verifyModelBytes, type BackboneEntry, type HeadEntry, type Manifest } from '../core/manifest';

export const MODEL_CACHE = 'vidkind-models';
/** Relative to the page: the site is served with base './'. */
export const DEFAULT_MANIFEST_URL = './models/manifest.json';

export interface ModelProgress {
  file: string;
  loadedBytes: number;
  totalBytes: number;
  fromCache: boolean;
}

export interface LoadedManifest {
  manifest: Manifest;
  /** Absolute URL of manifest.json: model files are relative to it. */
  url: string;
  /** Set for models picked from a folder on this device: their bytes come from these files only. */
  folder?: ModelFolder;
}

/** A models folder picked by the user: its name and its files by path relative to manifest.json. */
export interface ModelFolder {
  name: string;
  files: Map<string, File>;
}

/** A picked file and its path inside the picked folder (`webkitRelativePath` or a dropped entry's path). */
export interface FolderFile {
  file: File;
  path: string;
}

function absolute(url: string): string {
  return new URL(url, globalThis.location?.href).href;
}

/** Fetches and validates the manifest (revalidated with the server on every load: it is what versions everything else). */
export async function loadManifest(url = DEFAULT_MANIFEST_URL, signal?: AbortSignal): Promise<LoadedManifest> {
  const abs = absolute(url);
  let res: Response;
  try {
    res = await fetch(abs, { cache: 'no-cache', signal });
  } catch (e) {
    if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
    throw new VidkindError('model-load', `The model manifest could not be downloaded (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!res.ok) throw new VidkindError('model-load', `The model manifest could not be downloaded (HTTP ${res.status} for ${abs}).`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new VidkindError('invalid-manifest', 'The model manifest is not valid JSON.');
  }
  return { manifest: parseManifest(json), url: abs };
}

/** A manifest file's path normalised against the folder root ("./heads/a.onnx" -> "heads/a.onnx"); null if it leaves the folder. */
function folderPath(file: string): string | null {
  const root = 'https://folder.invalid/root/';
  const u = new URL(file, root);
  return u.origin === new URL(root).origin && u.pathname.startsWith('/root/')
    ? decodeURIComponent(u.pathname.slice('/root/'.length))
    : null;
}

/**
 * Models from a folder the user picked: the shallowest manifest.json in it (so picking the export
 * directory or the folder above it both work), validated like a downloaded one, and every model file
 * it names present. Rejects with a VidkindError that says what is wrong with the folder.
 */
export async function loadManifestFromFolder(picked: FolderFile[]): Promise<LoadedManifest> {
  const paths = picked.map((p) => ({ file: p.file, parts: p.path.split('/').filter(Boolean) }));
  const manifests = paths.filter((p) => p.parts.at(-1) === 'manifest.json').sort((a, b) => a.parts.length - b.parts.length);
  const top = manifests[0];
  if (!top)
    throw new VidkindError(
      'invalid-manifest',
      'This folder has no manifest.json. Pick the folder that `vidkind export --to` wrote (it holds manifest.json, backbones/ and heads/).',
    );
  const rootParts = top.parts.slice(0, -1);
  const files = new Map<string, File>();
  for (const p of paths)
    if (rootParts.every((part, i) => p.parts[i] === part)) files.set(p.parts.slice(rootParts.length).join('/'), p.file);
  let json: unknown;
  try {
    json = JSON.parse(await top.file.text());
  } catch {
    throw new VidkindError('invalid-manifest', "The folder's manifest.json is not valid JSON.");
  }
  const manifest = parseManifest(json);
  const missing = [...manifest.backbones, ...manifest.heads].map((e) => e.file).filter((f) => !files.has(folderPath(f) ?? ''));
  if (missing.length > 0)
    throw new VidkindError(
      'model-load',
      `The folder's manifest.json names model files that are not in the folder: ${[...new Set(missing)].join(', ')}.`,
    );
  const name = rootParts.at(-1) ?? paths[0]?.parts[0] ?? 'models';
  return {
    manifest,
    // Never fetched (fetchModel reads folder models from their files); it names them in messages and keys.
    url: `vidkind-folder:/${encodeURIComponent(name)}/manifest.json`,
    folder: { name, files },
  };
}

/**
 * The files of a loaded folder that its models need, by path relative to manifest.json:
 * manifest.json, MODEL_CARD.md and every model the manifest names (what the browser keeps of a
 * picked folder, kept-models.ts).
 */
export function keptFiles(loaded: LoadedManifest): { name: string; files: Array<{ path: string; file: File }> } {
  const folder = loaded.folder;
  if (!folder) throw new Error('only models from a folder are kept');
  const needed = new Set(['manifest.json', 'MODEL_CARD.md']);
  for (const e of [...loaded.manifest.backbones, ...loaded.manifest.heads]) needed.add(folderPath(e.file) ?? '');
  const files = [...folder.files].filter(([path]) => needed.has(path)).map(([path, file]) => ({ path, file }));
  return { name: folder.name, files };
}

/** A model's verified bytes from a picked folder. */
async function folderModel(
  folder: ModelFolder,
  entry: BackboneEntry | HeadEntry,
  onProgress?: (p: ModelProgress) => void,
): Promise<ArrayBuffer> {
  const file = folder.files.get(folderPath(entry.file) ?? '');
  if (!file) throw new VidkindError('model-load', `The model "${entry.file}" is not in the folder "${folder.name}".`);
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (e) {
    throw new VidkindError('model-load', `The model "${entry.file}" could not be read (${e instanceof Error ? e.message : String(e)}).`);
  }
  onProgress?.({ file: entry.file, loadedBytes: bytes.byteLength, totalBytes: bytes.byteLength, fromCache: false });
  if ((await sha256Hex(bytes)) !== entry.sha256)
    throw new VidkindError(
      'model-integrity',
      `The model file "${entry.file}" in the folder "${folder.name}" does not match its manifest.json (sha256), so it was not used. Export the models again (vidkind export).`,
    );
  return bytes;
}

/** The cache key of a model file: its URL with the manifest version, so a new manifest never reads old bytes. */
export function modelCacheKey(manifestUrl: string, manifest: Manifest, entry: { file: string }): string {
  const u = new URL(entry.file, manifestUrl);
  u.searchParams.set('v', manifest.version);
  return u.href;
}

async function openCache(): Promise<Cache | undefined> {
  // The Cache API only exists in secure contexts; elsewhere models are simply downloaded each time.
  if (typeof caches === 'undefined') return undefined;
  try {
    return await caches.open(MODEL_CACHE);
  } catch {
    return undefined;
  }
}

async function readWithProgress(res: Response, onChunk: (loaded: number) => void, signal?: AbortSignal): Promise<ArrayBuffer> {
  if (!res.body) return res.arrayBuffer();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    if (signal?.aborted) {
      await reader.cancel();
      throw new VidkindError('cancelled', 'Cancelled.');
    }
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onChunk(loaded);
  }
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out.buffer;
}

/**
 * The verified bytes of one model: from the cache when present and still matching, else downloaded.
 * Stale versions of the same file are dropped from the cache. Models from a picked folder are read
 * from it (and never cached).
 */
export async function fetchModel(
  loaded: LoadedManifest,
  entry: BackboneEntry | HeadEntry,
  onProgress?: (p: ModelProgress) => void,
  signal?: AbortSignal,
): Promise<ArrayBuffer> {
  if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
  if (loaded.folder) return folderModel(loaded.folder, entry, onProgress);
  const key = modelCacheKey(loaded.url, loaded.manifest, entry);
  const cache = await openCache();
  if (cache) {
    // A cache that cannot be read (a damaged entry, storage the browser has since refused) is not an
    // integrity failure of the deployment either: the file is downloaded as on a first visit.
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const bytes = await hit.arrayBuffer().catch(() => undefined);
      if (bytes && (await sha256Hex(bytes)) === entry.sha256) {
        onProgress?.({ file: entry.file, loadedBytes: bytes.byteLength, totalBytes: bytes.byteLength, fromCache: true });
        return bytes;
      }
      // A damaged cache entry is not an integrity failure of the deployment: drop it and download.
      await cache.delete(key).catch(() => false);
    }
  }
  const url = new URL(entry.file, loaded.url).href;
  let res: Response;
  try {
    // 'no-cache': the HTTP cache may hold bytes of a previous deployment under the same URL.
    res = await fetch(url, { cache: 'no-cache', signal });
  } catch (e) {
    if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
    throw new VidkindError(
      'model-load',
      `The model "${entry.file}" could not be downloaded (${e instanceof Error ? e.message : String(e)}).`,
    );
  }
  if (!res.ok) throw new VidkindError('model-load', `The model "${entry.file}" could not be downloaded (HTTP ${res.status}).`);
  const total = Number(res.headers.get('content-length')) || entry.bytes;
  const bytes = await readWithProgress(
    res,
    (n) => onProgress?.({ file: entry.file, loadedBytes: n, totalBytes: Math.max(total, n), fromCache: false }),
    signal,
  );
  await verifyModelBytes(entry, bytes);
  if (cache) await storeModel(cache, key, bytes);
  return bytes;
}

/**
 * Stores a downloaded model's bytes in the Cache API. Never fails: the cache only spares the next
 * visit a download, so a write the browser refuses (storage full, a private mode that limits it)
 * leaves the models working, downloaded again next time.
 */
async function storeModel(cache: Cache, key: string, bytes: ArrayBuffer): Promise<void> {
  try {
    await cache.put(key, new Response(bytes.slice(0), { headers: { 'content-type': 'application/octet-stream' } }));
    await dropStaleVersions(cache, key);
  } catch (e) {
    console.warn(`vidkind: a model could not be stored in this browser's cache (${e instanceof Error ? e.message : String(e)}).`);
  }
}

/** Removes cached copies of the same file under other manifest versions. */
async function dropStaleVersions(cache: Cache, key: string): Promise<void> {
  const base = new URL(key);
  base.search = '';
  for (const req of await cache.keys()) {
    const u = new URL(req.url);
    const v = u.searchParams.get('v');
    u.search = '';
    if (u.href === base.href && req.url !== key && v !== null) await cache.delete(req);
  }
}

/** The "clear cached models" action. */
export async function clearModelCache(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(MODEL_CACHE);
}
