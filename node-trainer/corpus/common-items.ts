/**
 * Makes feature stores that hold exactly the same clips (src/features/common-items.ts). With
 * `--labels`, only clips that the corpus's labels.csv lists today, with the same class, subclass and
 * source, are kept (a store also holds clips of earlier builds), one entry per path.
 *   node --import tsx common-items.ts [--labels <labels.csv>] <out-dir> <store> <store>...
 */
import { basename, join } from 'node:path';
import { DEFAULT_TAXONOMY } from '../../src/core/taxonomy.ts';
import { readLabels } from '../src/extract/labels.ts';
import { commonItems } from '../src/features/common-items.ts';

const argv = process.argv.slice(2);
const labelsAt = argv[0] === '--labels' ? 1 : -1;
const labelsFile = labelsAt > 0 ? argv[labelsAt] : undefined;
const [outDir, ...stores] = labelsAt > 0 ? argv.slice(2) : argv;
if (!outDir || stores.length === 0 || (labelsAt > 0 && !labelsFile)) {
  console.error('usage: common-items.ts [--labels <labels.csv>] <out-dir> <store> [<store>...]');
  process.exit(2);
}
const n = commonItems(outDir, stores, labelsFile ? readLabels(labelsFile, '.', DEFAULT_TAXONOMY) : undefined).length;
for (const store of stores) console.log(`${join(outDir, basename(store))}: ${n} clips`);
