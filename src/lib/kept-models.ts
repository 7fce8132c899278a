/**
 * Models from a folder the user picked, kept in this browser (IndexedDB, this origin only) so that
 * the next visit runs them again without picking the folder again. Only what the models need is
 * kept (model-store.ts keptFiles). The bytes are checked against the manifest's sha256 whenever
 * they are loaded, as a picked folder's are. Nothing here is ever sent anywhere. Keeping and
 * forgetting reject with a message when storage fails; reading treats storage that cannot be
 * opened as nothing kept. Only types come from model-store, which stays out of the first paint.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { z } from 'zod';
import type { FolderFile } from './model-store';

const KEY = 'folder';

/** What is kept: the folder's name and its files by path relative to manifest.json. */
const keptSchema = z.object({
  name: z.string().min(1),
  keptAt: z.string(),
  files: z.array(z.object({ path: z.string().min(1), file: z.instanceof(Blob) })).min(1),
});
export type KeptFolder = z.infer<typeof keptSchema>;

let store: UseStore | null = null;
/** The store, or null where the browser offers no IndexedDB (then nothing was ever kept either). */
function db(): UseStore | null {
  if (typeof indexedDB === 'undefined') return null;
  store ??= createStore('vidkind-kept-models', 'models');
  return store;
}

/**
 * Keeps these models, replacing any kept before. The bytes are copied: a picked file stored as it
 * is stays a reference to the file on disk in Chromium, unreadable once the folder is moved.
 */
export async function keepModels(kept: Omit<KeptFolder, 'keptAt'>): Promise<void> {
  try {
    const to = db();
    if (!to) throw new Error('this browser keeps no data for the site');
    const files = await Promise.all(kept.files.map(async ({ path, file }) => ({ path, file: new Blob([await file.arrayBuffer()]) })));
    await set(KEY, { name: kept.name, keptAt: new Date().toISOString(), files }, to);
  } catch (e) {
    throw new Error(storageMessage(e), { cause: e });
  }
  // Site data is "best effort" by default: a browser short of space may evict it, and the kept models
  // with it. The person asked to keep these, so ask the browser to keep the site's data (Chromium
  // decides by itself, Firefox asks the person). Either answer is fine: evicted models mean the
  // site's models run and Settings offers the folder again.
  void navigator.storage?.persist?.().catch(() => false);
}

/**
 * The kept models as files of a picked folder named like the original, or null when none are kept.
 * Storage that cannot be opened (storage blocked, some private windows) keeps nothing either: null,
 * not an error on every visit. What was kept but is not a models folder rejects.
 */
export async function keptModels(): Promise<{ name: string; files: FolderFile[] } | null> {
  const from = db();
  if (!from) return null;
  let raw: unknown;
  try {
    raw = await get(KEY, from);
  } catch {
    return null;
  }
  if (raw === undefined) return null;
  const parsed = keptSchema.safeParse(raw);
  if (!parsed.success) throw new Error('what this browser kept is not a models folder');
  return { name: parsed.data.name, files: asFolderFiles(parsed.data) };
}

/** Kept files as a picked folder's files, under a folder of the original name (so it keeps its name). */
export function asFolderFiles(kept: Pick<KeptFolder, 'name' | 'files'>): FolderFile[] {
  return kept.files.map(({ path, file }) => ({
    path: `${kept.name}/${path}`,
    file: file instanceof File ? file : new File([file], path.split('/').at(-1)!),
  }));
}

/** Forgets the kept models (nothing kept is not an error). */
export async function forgetModels(): Promise<void> {
  const from = db();
  if (!from) return;
  try {
    await del(KEY, from);
  } catch (e) {
    throw new Error(storageMessage(e), { cause: e });
  }
}

function storageMessage(e: unknown): string {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'QuotaExceededError') return 'this browser has no room left for them';
  if (name === 'NotReadableError' || name === 'NotFoundError') return 'a file of the folder could no longer be read';
  return e instanceof Error ? e.message : String(e);
}
