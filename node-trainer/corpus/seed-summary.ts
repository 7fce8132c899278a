/**
 * Summarises runs of one recipe trained on several seeds (each a different by-source split) and
 * names the configuration to ship, chosen on validation only (src/eval/repeated.ts). Each run
 * directory holds `metrics-val-f<N>.json` and `metrics-test-f<N>.json` from `vidkind eval
 * --frames N`, for one or more N.
 *   node --import tsx seed-summary.ts <summary.md> <choice.json> <run-dir>...
 */
import { readdirSync, readFileSync } from 'node:fs';
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
  const frames = readdirSync(dir)
    .map((f) => /^metrics-val-f(\d+)\.json$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort((a, b) => Number(b) - Number(a));
  if (frames.length === 0) throw new Error(`${dir} has no metrics-val-f<N>.json (vidkind eval --split val --frames N)`);
  return {
    seed: config.train?.seed ?? Number.NaN,
    scored: frames.map((n) => ({ val: read(join(dir, `metrics-val-f${n}.json`)), test: read(join(dir, `metrics-test-f${n}.json`)) })),
  };
});
const summary = summariseSeeds(seedRuns);
const md = repeatedMarkdown(summary);
writeFileAtomic(summaryFile, md);
const { id, backbones, frames } = summary.chosen;
writeFileAtomic(choiceFile, JSON.stringify({ id, backbones, frames }) + '\n');
process.stdout.write(md);
console.log(`chosen on validation: ${id} (${backbones.join(' + ')}), ${frames} frames`);
