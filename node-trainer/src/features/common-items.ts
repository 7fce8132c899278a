/**
 * Feature stores that hold exactly the same clips, so that an ensemble whose members sit on
 * different backbones trains and is evaluated on one by-source split (a clip that failed on one
 * backbone's extraction is left out of all). Item files are hard-linked, not copied.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LabelRow } from '../extract/labels.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { readIndex, type FeatureItem } from './store.ts';

type Label = Pick<LabelRow, 'path' | 'class' | 'subclass' | 'source'>;

/**
 * Writes `<outDir>/<basename(store)>` for each store, holding the clips every store has. With
 * `labels`, only clips listed there are kept, one entry per path: with `relabel`, under the labels'
 * class, subclass and source (the features of a file do not depend on how it is labelled: `vidkind
 * fit` after a user moved or relabelled videos); without, only those stored with the same class,
 * subclass and source (a corpus store also holds clips of earlier builds under the same paths).
 * Returns the clips kept (the first store's index entries).
 */
export function commonItems(outDir: string, stores: readonly string[], labels?: readonly Label[], relabel = false): FeatureItem[] {
  const wanted = labels ? new Map(labels.map((r) => [r.path, r])) : undefined;
  const same = (a: Label, b: Label) => a.class === b.class && a.subclass === b.subclass && a.source === b.source;
  const current = (items: FeatureItem[]): FeatureItem[] => {
    if (!wanted) return items;
    const seen = new Set<string>();
    return [...items]
      .sort((a, b) => a.key.localeCompare(b.key))
      .flatMap((i) => {
        const label = wanted.get(i.path);
        if (seen.has(i.path) || !label || !(relabel || same(i, label))) return [];
        seen.add(i.path);
        return [{ ...i, class: label.class, subclass: label.subclass, source: label.source }];
      });
  };
  const indexes = stores.map((s) => current(readIndex(s)));
  const common = indexes.reduce(
    (keys, idx) => new Set(idx.map((i) => i.key).filter((k) => keys.has(k))),
    new Set(indexes[0]?.map((i) => i.key) ?? []),
  );
  let kept: FeatureItem[] = [];
  for (const [n, store] of stores.entries()) {
    const dest = join(outDir, basename(store));
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(join(dest, 'items'), { recursive: true });
    copyFileSync(join(store, 'features.json'), join(dest, 'features.json'));
    const items = indexes[n]!.filter((i) => common.has(i.key)).sort((a, b) => a.key.localeCompare(b.key));
    for (const i of items) {
      const f = `${i.key}.f16`;
      if (!existsSync(join(dest, 'items', f))) linkSync(join(store, 'items', f), join(dest, 'items', f));
    }
    writeFileAtomic(join(dest, 'index.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    if (n === 0) kept = items;
  }
  return kept;
}
