/**
 * Backbone features per (file fingerprint, backbone), in IndexedDB, so that classifying the same
 * file again, or switching ensemble or TTA, skips decoding and the backbone ("fast inference from
 * pre-extracted features"). Every failure here degrades to a cache miss: the cache only saves time.
 *
 * File fingerprint: sha256 over the name, size, lastModified and the first and last 1 MiB of the
 * file. Reading 2 MiB takes milliseconds even for huge files; an edit anywhere in a real video
 * changes its size, its headers (start) or its index (end, for MP4 with the moov at the end),
 * and lastModified changes on any save. Two different files with the same name, size, mtime, head
 * and tail would share an entry: accepted, as they cannot be told apart without reading everything.
 */
import { sha256Hex } from '../core/manifest';
import type { FrameThumbnail } from './classifier-types';

const DB_NAME = 'vidkind-features';
const DB_VERSION = 1;
const FEATURES = 'features';
const VIDEOS = 'videos';
const EDGE_BYTES = 1 << 20;

/** Identifies a file's content cheaply (see the module comment). */
export async function fileFingerprint(file: File): Promise<string> {
  const head = new Uint8Array(await file.slice(0, EDGE_BYTES).arrayBuffer());
  const tail =
    file.size > EDGE_BYTES
      ? new Uint8Array(await file.slice(Math.max(EDGE_BYTES, file.size - EDGE_BYTES)).arrayBuffer())
      : new Uint8Array(0);
  const meta = new TextEncoder().encode(`${file.name}\n${file.size}\n${file.lastModified}\n`);
  const all = new Uint8Array(meta.length + head.length + tail.length);
  all.set(meta, 0);
  all.set(head, meta.length);
  all.set(tail, meta.length + head.length);
  return sha256Hex(all);
}

/** What the backbone produced for one view of one plan of one file. */
export interface FeatureKey {
  fingerprint: string;
  backboneId: string;
  /** The backbone's sha256: a retrained or re-quantised backbone never reuses old features. */
  backboneSha256: string;
  frames: number;
  /** Spatial view + temporal shift, e.g. "flip=0,crop=1,shift=0". */
  view: string;
}

export interface FeatureRecord {
  features: Float32Array;
  /** [frames, dim] */
  dim: number;
}

/** Facts about a file that the Result and the UI need when decoding is skipped. */
export interface VideoRecord {
  durationS: number;
  width: number;
  height: number;
  decoder: string;
  thumbnails: FrameThumbnail[];
}

export function featureKeyString(k: FeatureKey): string {
  return [k.fingerprint, k.backboneId, k.backboneSha256, `T${k.frames}`, k.view].join('|');
}

export function viewKey(view: { flip?: boolean; crop?: number; shift?: number }): string {
  return `flip=${view.flip ? 1 : 0},crop=${view.crop ?? 1},shift=${view.shift ?? 0}`;
}

let dbPromise: Promise<IDBDatabase | null> | null = null;

function openDb(): Promise<IDBDatabase | null> {
  dbPromise ??= new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') return resolve(null);
    let req: IDBOpenDBRequest;
    try {
      req = indexedDB.open(DB_NAME, DB_VERSION);
    } catch {
      // Firefox throws (SecurityError) where the user blocks storage for the site: run without the cache.
      return resolve(null);
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(FEATURES)) db.createObjectStore(FEATURES);
      if (!db.objectStoreNames.contains(VIDEOS)) db.createObjectStore(VIDEOS);
    };
    req.onsuccess = () => resolve(req.result);
    // Private windows may refuse IndexedDB: run without the cache.
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
  return dbPromise;
}

function request<T>(store: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T | undefined> {
  return openDb().then(
    (db) =>
      new Promise<T | undefined>((resolve) => {
        if (!db) return resolve(undefined);
        try {
          const tx = db.transaction(store, mode);
          const req = fn(tx.objectStore(store));
          tx.oncomplete = () => resolve(req.result as T);
          tx.onerror = () => resolve(undefined);
          tx.onabort = () => resolve(undefined);
        } catch {
          resolve(undefined);
        }
      }),
  );
}

export const featureCache = {
  async getFeatures(key: FeatureKey): Promise<FeatureRecord | undefined> {
    const r = await request<FeatureRecord>(FEATURES, 'readonly', (s) => s.get(featureKeyString(key)));
    return r && r.features instanceof Float32Array && r.features.length === key.frames * r.dim ? r : undefined;
  },
  async putFeatures(key: FeatureKey, record: FeatureRecord): Promise<void> {
    await request(FEATURES, 'readwrite', (s) => s.put(record, featureKeyString(key)));
  },
  async getVideo(fingerprint: string, frames: number): Promise<VideoRecord | undefined> {
    return request<VideoRecord>(VIDEOS, 'readonly', (s) => s.get(`${fingerprint}|T${frames}`));
  },
  async putVideo(fingerprint: string, frames: number, record: VideoRecord): Promise<void> {
    await request(VIDEOS, 'readwrite', (s) => s.put(record, `${fingerprint}|T${frames}`));
  },
  /** Forgets every cached feature (e.g. with "clear cached models"). */
  async clear(): Promise<void> {
    await request(FEATURES, 'readwrite', (s) => s.clear());
    await request(VIDEOS, 'readwrite', (s) => s.clear());
  },
};
