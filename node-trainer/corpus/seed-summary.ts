/**
 * Summarises runs of one recipe trained on several seeds (each a different by-source split) and
 * names the configuration to ship, chosen on validation only (src/eval/repeated.ts). Each run
 * directory must hold `metrics-val.json` and `metrics.json` (test) from `vidkind eval`.
 *   node --import tsx seed-summary.ts <summary.md> <choice.json> <run-dir>...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repeatedMarkdown, RunMetricsSchema, summariseSeeds, type SeedRun } from '../src/eval/repeated.ts';
import { writeFileAtomic } from '../src/fs-atomic.ts';

const [summaryFile, choiceFile, ...runs] = process.argv.slice(2);
if (!summaryFile || !choiceFile || runs.length === 0) {
  console.error('usage: seed-summary.ts <summary.md> <choice.json> <run-dir>...');
  process.exit(2);
}
const read = (file: string) => RunMetricsSchema.passthrough().parse(JSON.parse(readFileSync(file, 'utf8')));
const seedRuns: SeedRun[] = runs.map((dir) => {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { train?: { seed?: number } };
  return { seed: config.train?.seed ?? Number.NaN, val: read(join(dir, 'metrics-val.json')), test: read(join(dir, 'metrics.json')) };
});
const summary = summariseSeeds(seedRuns);
const md = repeatedMarkdown(summary);
writeFileAtomic(summaryFile, md);
writeFileAtomic(choiceFile, JSON.stringify({ id: summary.chosen.id, backbones: summary.chosen.backbones }) + '\n');
process.stdout.write(md);
console.log(`chosen on validation: ${summary.chosen.id} (${summary.chosen.backbones.join(' + ')})`);
