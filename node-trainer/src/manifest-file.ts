/**
 * Reading and updating `public/models/manifest.json` from node-trainer (import-backbone, export).
 * Every write re-validates the whole manifest with src/core's schema and is atomic; `version`
 * is derived from the model files' hashes, so caches in browsers change exactly when a model does.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MANIFEST_SCHEMA_VERSION,
  parseManifest,
  type BackboneEntry,
  type EnsembleEntry,
  type HeadEntry,
  type Manifest,
} from '../../src/core/manifest.ts';
import { DEFAULT_TAXONOMY } from '../../src/core/taxonomy.ts';
import { writeJsonAtomic } from './fs-atomic.ts';

export const MANIFEST_FILE = 'manifest.json';

/** The default TTA views: flip, a centre crop, and two temporal shifts. */
export const DEFAULT_TTA_VIEWS = [
  { id: 'identity', flip: false, crop: 1, shift: 0 },
  { id: 'flip', flip: true, crop: 1, shift: 0 },
  { id: 'crop-0.875', flip: false, crop: 0.875, shift: 0 },
  { id: 'shift-early', flip: false, crop: 1, shift: -0.25 },
  { id: 'shift-late', flip: false, crop: 1, shift: 0.25 },
];

/** An empty manifest with the default taxonomy. */
export function emptyManifest(): Manifest {
  return parseManifest({
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    version: 'empty',
    taxonomy: DEFAULT_TAXONOMY,
    backbones: [],
    heads: [],
    ensembles: [],
    tta: { views: DEFAULT_TTA_VIEWS },
  });
}

/** Reads `<modelsDir>/manifest.json`, or an empty manifest when there is none yet. */
export function readManifestFile(modelsDir: string): Manifest {
  const file = join(modelsDir, MANIFEST_FILE);
  if (!existsSync(file)) return emptyManifest();
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')));
}

/** Validates, versions and atomically writes the manifest. */
export function writeManifestFile(modelsDir: string, manifest: Manifest): Manifest {
  const hash = createHash('sha256');
  for (const e of [...manifest.backbones, ...manifest.heads]) hash.update(`${e.id}:${e.sha256}\n`);
  for (const e of manifest.ensembles) hash.update(`${e.id}:${e.members.join(',')}:${e.temperature}:${e.oodThreshold}\n`);
  const next = parseManifest({ ...manifest, version: hash.digest('hex').slice(0, 16) });
  writeJsonAtomic(join(modelsDir, MANIFEST_FILE), next);
  return next;
}

function upsert<T extends { id: string }>(list: T[], entry: T): T[] {
  const i = list.findIndex((e) => e.id === entry.id);
  return i < 0 ? [...list, entry] : list.map((e, j) => (j === i ? entry : e));
}

/** Adds or replaces a backbone entry and writes the manifest. */
export function upsertBackbone(modelsDir: string, entry: BackboneEntry): Manifest {
  const m = readManifestFile(modelsDir);
  return writeManifestFile(modelsDir, { ...m, backbones: upsert(m.backbones, entry) });
}

/** Adds or replaces a head entry and writes the manifest. */
export function upsertHead(modelsDir: string, entry: HeadEntry): Manifest {
  const m = readManifestFile(modelsDir);
  return writeManifestFile(modelsDir, { ...m, heads: upsert(m.heads, entry) });
}

/** Adds or replaces an ensemble entry (optionally making it the default) and writes the manifest. */
export function upsertEnsemble(modelsDir: string, entry: EnsembleEntry, makeDefault = false): Manifest {
  const m = readManifestFile(modelsDir);
  return writeManifestFile(modelsDir, {
    ...m,
    ensembles: upsert(m.ensembles, entry),
    defaultEnsemble: makeDefault ? entry.id : m.defaultEnsemble,
  });
}

/**
 * Removes the heads that no ensemble lists any more (e.g. the members of an ensemble that was
 * re-exported with fewer members) and writes the manifest; returns the removed entries, whose
 * files the caller deletes.
 */
export function pruneHeads(modelsDir: string): { manifest: Manifest; removed: HeadEntry[] } {
  const m = readManifestFile(modelsDir);
  const used = new Set(m.ensembles.flatMap((e) => e.members));
  const removed = m.heads.filter((h) => !used.has(h.id));
  if (removed.length === 0) return { manifest: m, removed };
  return { manifest: writeManifestFile(modelsDir, { ...m, heads: m.heads.filter((h) => used.has(h.id)) }), removed };
}
