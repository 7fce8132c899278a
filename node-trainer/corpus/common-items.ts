/**
 * Makes feature stores that hold exactly the same clips, so that an ensemble whose members sit on
 * different backbones trains and is evaluated on one by-source split. Item files are hard-linked
 * (no copies); run as `node --import tsx common-items.ts <out-dir> <store> <store>...`.
 */
import { linkSync, existsSync, mkdirSync, rmSync, copyFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { readIndex } from '../src/features/store.ts';
import { writeFileAtomic } from '../src/fs-atomic.ts';

const [outDir, ...stores] = process.argv.slice(2);
if (!outDir || stores.length === 0) {
  console.error('usage: common-items.ts <out-dir> <store> [<store>...]');
  process.exit(2);
}
const indexes = stores.map((s) => readIndex(s));
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
