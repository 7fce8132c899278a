/** `vidkind eval`: accuracy, macro-F1, per-class scores, confusion, calibration and the OOD threshold of a run. */
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { readCvCalibration } from '../eval/cross-validate.ts';
import { evaluateRun } from '../eval/evaluate.ts';
import { renderReport } from '../eval/report.ts';
import { writeFileAtomic, writeJsonAtomic } from '../fs-atomic.ts';
import { runPaths } from '../train/run-dir.ts';
import type { SplitPart } from '../train/split.ts';

interface EvalCliOptions {
  run: string;
  split: SplitPart;
  frames?: string;
  calibration?: string;
  progress: boolean;
}

async function run(o: EvalCliOptions): Promise<void> {
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: ' eval |{bar}| {value}/{total} heads | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic)
    : null;
  const frames = o.frames === undefined ? undefined : Number(o.frames);
  // Read before scoring, so a missing or old cv.json fails at once.
  const calibration = o.calibration === undefined ? undefined : readCvCalibration(o.calibration);
  const m = await evaluateRun(
    o.run,
    o.split,
    (i, n) => {
      if (i === 0) bar?.start(n, 0);
      else bar?.update(i);
    },
    frames,
    calibration,
  );
  bar?.update(m.members.length);
  bar?.stop();
  const paths = runPaths(o.run);
  writeJsonAtomic(paths.metrics, m);
  writeFileAtomic(paths.report, renderReport(m, `vidkind eval: ${basename(resolve(o.run))}`));
  console.log(
    `${o.split}: ${m.clips} clips, ${m.frames} frames each, accuracy ${(100 * m.accuracy).toFixed(1)}%, macro-F1 ${m.macroF1.toFixed(4)}, ` +
      `temperature ${m.temperature.toFixed(3)} (from ${m.calibrationClips} ${m.calibratedOn} clips; subclasses ${m.subclassTemperature.toFixed(3)}), ECE ${m.eceBefore.toFixed(3)} -> ${m.eceAfter.toFixed(3)}, OOD threshold ${m.oodThreshold.toFixed(3)}`,
  );
  console.log(`wrote ${paths.metrics} and ${paths.report}`);
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a trained run (or ensemble): metrics.json and a self-contained report.html in the run directory.')
    .requiredOption('--run <dir>', 'run directory written by `vidkind train`')
    .addOption(new Option('--split <part>', 'which part to score').choices(['test', 'val', 'train']).default('test'))
    .option('--frames <n>', 'score each clip on n evenly spaced frames of the stored ones (as an app sampling n frames would)')
    .option(
      '--calibration <cv>',
      "take the temperature and OOD threshold from a `vidkind cv` of the same recipe (its directory or cv.json), fitted on every held-out clip, instead of fitting them on this run's validation split",
    )
    .option('--no-progress', 'no progress bar')
    .action((opts: EvalCliOptions) => run(opts));
}
