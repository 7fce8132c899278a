/**
 * Makes feature stores that hold exactly the same clips, so that an ensemble whose members sit on
 * different backbones trains and is evaluated on one by-source split. Item files are hard-linked
 * (no copies). With `--labels`, only clips that the corpus's labels.csv lists today, with the same
 * class, subclass and source, are kept (a store also holds clips of earlier builds), one entry per path.
 *   node --import tsx common-items.ts [--labels <labels.csv>] <out-dir> <store> <store>...
 */
import { linkSync, existsSync, mkdirSync, rmSync, copyFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { DEFAULT_TAXONOMY } from '../../src/core/taxonomy.ts';
import { readLabels } from '../src/extract/labels.ts';
import { readIndex, type FeatureItem } from '../src/features/store.ts';
import { writeFileAtomic } from '../src/fs-atomic.ts';

const argv = process.argv.slice(2);
const labelsAt = argv[0] === '--labels' ? 1 : -1;
const labelsFile = labelsAt > 0 ? argv[labelsAt] : undefined;
const [outDir, ...stores] = labelsAt > 0 ? argv.slice(2) : argv;
if (!outDir || stores.length === 0 || (labelsAt > 0 && !labelsFile)) {
  console.error('usage: common-items.ts [--labels <labels.csv>] <out-dir> <store> [<store>...]');
  process.exit(2);
}
const wanted = labelsFile
  ? new Map(readLabels(labelsFile, '.', DEFAULT_TAXONOMY).map((r) => [r.path, `${r.class}/${r.subclass}/${r.source}`]))
  : undefined;
/** The store's items that the labels still list as they are, one per path (the first by key). */
function current(items: FeatureItem[]): FeatureItem[] {
  if (!wanted) return items;
  const seen = new Set<string>();
  return [...items]
    .sort((a, b) => a.key.localeCompare(b.key))
    .filter((i) => {
      if (seen.has(i.path) || wanted.get(i.path) !== `${i.class}/${i.subclass}/${i.source}`) return false;
      seen.add(i.path);
      return true;
    });
}
const indexes = stores.map((s) => current(readIndex(s)));
const common = indexes.reduce(
  (keys, idx) => new Set(idx.map((i) => i.key).filter((k) => keys.has(k))),
  new Set(indexes[0]!.map((i) => i.key)),
);
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
  console.log(`${dest}: ${items.length} clips`);
}
