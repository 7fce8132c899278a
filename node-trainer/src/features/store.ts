/**
 * Feature store written by `vidkind extract` and read by `train`/`eval`:
 *   <dir>/features.json       StoreInfo (backbone id, feature dim, frames per clip)
 *   <dir>/items/<key>.f16     one clip's features, float16 little-endian [T, D]
 *   <dir>/index.jsonl         one line per finished clip (FeatureItem), appended after its file is
 *                             written atomically, so a killed extract never indexes a partial clip
 *   <dir>/errors.jsonl        clips that failed (path, code, message): logged, skipped, retried on rerun
 * With --shard i/N, several machines write disjoint items; index lines are per shard
 * (index.<i>-of-<N>.jsonl) and readers merge every index*.jsonl.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import { writeFileAtomic, writeJsonAtomic } from '../fs-atomic.ts';
import { decodeHalf, encodeHalf } from './float16.ts';

export const StoreInfoSchema = z.object({
  format: z.literal('vidkind-features/1'),
  backbone: z.string(),
  dim: z.number().int().positive(),
  frames: z.number().int().positive(),
});
export type StoreInfo = z.infer<typeof StoreInfoSchema>;

export const FeatureItemSchema = z.object({
  key: z.string(),
  path: z.string(),
  class: z.enum(CLASS_IDS),
  subclass: z.string(),
  source: z.string(),
  durationS: z.number().min(0),
  frames: z.number().int().positive(),
});
export type FeatureItem = z.infer<typeof FeatureItemSchema>;

/** Stable file key for a clip path (a hash, so names never collide or reveal directories). */
export function itemKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 24);
}

/** Opens (creating if needed) a store; refuses one made with another backbone or shape. */
export function openStore(dir: string, info: StoreInfo): void {
  mkdirSync(join(dir, 'items'), { recursive: true });
  const file = join(dir, 'features.json');
  if (existsSync(file)) {
    const existing = StoreInfoSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    if (existing.backbone !== info.backbone || existing.dim !== info.dim || existing.frames !== info.frames)
      throw new Error(
        `${dir} holds features of ${existing.backbone} (${existing.frames}x${existing.dim}), not ${info.backbone} (${info.frames}x${info.dim})`,
      );
    return;
  }
  writeJsonAtomic(file, info);
}

export function readStoreInfo(dir: string): StoreInfo {
  return StoreInfoSchema.parse(JSON.parse(readFileSync(join(dir, 'features.json'), 'utf8')));
}

function indexFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^index(\.\d+-of-\d+)?\.jsonl$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Every finished item of the store (all shards), last entry winning for a repeated key. */
export function readIndex(dir: string): FeatureItem[] {
  const byKey = new Map<string, FeatureItem>();
  for (const file of indexFiles(dir))
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a line torn by a kill mid-append: its item is simply redone
      }
      const item = FeatureItemSchema.safeParse(parsed);
      if (item.success && existsSync(join(dir, 'items', `${item.data.key}.f16`))) byKey.set(item.data.key, item.data);
    }
  return [...byKey.values()];
}

/** Writes one clip's features [T, D] and indexes it (the index line is the commit point). */
export function writeItem(dir: string, item: FeatureItem, features: Float32Array, shard?: { i: number; n: number }): void {
  const info = readStoreInfo(dir);
  if (features.length !== item.frames * info.dim)
    throw new Error(`features for ${item.path}: ${features.length} values, expected ${item.frames}x${info.dim}`);
  const half = encodeHalf(features);
  writeFileAtomic(join(dir, 'items', `${item.key}.f16`), new Uint8Array(half.buffer));
  const indexFile = join(dir, shard ? `index.${shard.i}-of-${shard.n}.jsonl` : 'index.jsonl');
  appendDurably(indexFile, JSON.stringify(FeatureItemSchema.parse(item)) + '\n');
}

/** Reads one item's features as float32 [T, D]. */
export function readItemFeatures(dir: string, key: string): Float32Array {
  const buf = readFileSync(join(dir, 'items', `${key}.f16`));
  return decodeHalf(new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)));
}

/** Logs a failed clip so the user can see why it was skipped. */
export function logItemError(dir: string, entry: { path: string; code: string; message: string }): void {
  appendDurably(join(dir, 'errors.jsonl'), JSON.stringify(entry) + '\n');
}

function appendDurably(file: string, line: string): void {
  // A line torn by a crash mid-append (no final newline) must not swallow this one: start afresh.
  appendFileSync(file, endsTorn(file) ? `\n${line}` : line);
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function endsTorn(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
