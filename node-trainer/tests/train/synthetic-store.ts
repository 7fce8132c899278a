/** A small feature store with a learnable signal (class-dependent mean per feature), and the waits the training tests share. */
import { existsSync } from 'node:fs';
import { CLASS_IDS, DEFAULT_TAXONOMY } from '../../../src/core/taxonomy.ts';
import { itemKey, openStore, writeItem } from '../../src/features/store.ts';
import { Rng } from '../../src/train/rng.ts';

export interface SyntheticStoreOptions {
  clipsPerSource: number;
  sourcesPerClass: number;
  frames: number;
  dim: number;
  seed: number;
  /** Distance between class means relative to the noise (higher = easier). */
  separation?: number;
  /** Feature d is stored as value * scale(d) + offset(d) (features on different scales, as taps are). */
  scale?: (d: number) => number;
  offset?: (d: number) => number;
}

/** The head sizes the training tests share: small enough to train in seconds on these stores. */
export const TINY_HEAD = { projDim: 16, lstmHidden: 8, lstmLayers: 1, attnHeads: 2, poolHidden: 8 } as const;

/** Writes the store; returns the number of clips. */
export function writeSyntheticStore(dir: string, o: SyntheticStoreOptions): number {
  openStore(dir, { format: 'vidkind-features/1', backbone: 'synthetic', dim: o.dim, frames: o.frames });
  const rng = new Rng(o.seed);
  const sep = o.separation ?? 1.5;
  const means = CLASS_IDS.map(() => Float32Array.from({ length: o.dim }, () => rng.uniform(-sep, sep)));
  let n = 0;
  CLASS_IDS.forEach((cls, c) => {
    const subs = DEFAULT_TAXONOMY.classes[c]!.subclasses;
    for (let s = 0; s < o.sourcesPerClass; s++)
      for (let k = 0; k < o.clipsPerSource; k++) {
        const path = `/clips/${cls}/source${s}/clip${k}.mp4`;
        const f = new Float32Array(o.frames * o.dim);
        for (let t = 0; t < o.frames; t++)
          for (let d = 0; d < o.dim; d++)
            f[t * o.dim + d] = (means[c]![d]! + rng.uniform(-1, 1)) * (o.scale?.(d) ?? 1) + (o.offset?.(d) ?? 0);
        // Every third clip has no subclass label: the subclass loss must skip it.
        const subclass = k % 3 === 2 ? '' : subs[(s + k) % subs.length]!.id;
        writeItem(dir, { key: itemKey(path), path, class: cls, subclass, source: `${cls}-source${s}`, durationS: 10, frames: o.frames }, f);
        n++;
      }
  });
  return n;
}

/** Resolves once `file` exists (polling), so the test can interrupt a run right after a checkpoint. */
export async function waitFor(file: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
