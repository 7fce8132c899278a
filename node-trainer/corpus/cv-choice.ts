/**
 * Names the configuration to ship from cross-validations by source of each candidate
 * (src/eval/cv-choice.ts): the seeds' validation splits hold one or two sources per class, too few
 * to tell candidates a few points apart (their spread over seeds is ±0.03-0.04), while the
 * cross-validation holds out every source once. Appends the comparison to the seeds summary.
 *   node --import tsx cv-choice.ts <choice.json> <summary.md> <id>:<backbone+backbone>:<cv-dir>...
 * Candidates go cheapest first: near-ties go to the first.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseByCv, CvSummarySchema, cvChoiceMarkdown } from '../src/eval/cv-choice.ts';
import { writeFileAtomic } from '../src/fs-atomic.ts';

const [choiceFile, summaryFile, ...specs] = process.argv.slice(2);
if (!choiceFile || !summaryFile || specs.length === 0) {
  console.error('usage: cv-choice.ts <choice.json> <summary.md> <id>:<backbone+backbone>:<cv-dir>...');
  process.exit(2);
}
const candidates = specs.map((spec) => {
  const [id, backbones, dir] = spec.split(':');
  if (!id || !backbones || !dir) throw new Error(`expected <id>:<backbones>:<cv-dir>, got "${spec}"`);
  return { id, backbones: backbones.split('+'), dir, cv: CvSummarySchema.parse(JSON.parse(readFileSync(join(dir, 'cv.json'), 'utf8'))) };
});
const chosen = chooseByCv(candidates);
// The seeds table marks its own (validation) choice as shipped: say what it is now.
writeFileAtomic(summaryFile, readFileSync(summaryFile, 'utf8').replace('(shipped)', '(best on validation)'));
const md = cvChoiceMarkdown(candidates, chosen);
appendFileSync(summaryFile, md);
writeFileAtomic(
  choiceFile,
  JSON.stringify({ id: chosen.id, backbones: chosen.backbones, frames: chosen.cv.frames, cv: chosen.dir }) + '\n',
);
process.stdout.write(md);
console.log(`chosen by cross-validation: ${chosen.id} (${chosen.backbones.join(' + ')}), macro-F1 ${chosen.cv.macroF1.toFixed(3)}`);
