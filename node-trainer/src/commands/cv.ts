/** `vidkind cv`: cross-validation by source, pooled out-of-fold metrics and the sources it gets wrong. */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { resolve } from 'node:path';
import {
  crossValidate,
  cvReportPath,
  foldsOf,
  readCrossValidation,
  type CrossValidateOptions,
  type CrossValidationReport,
} from '../eval/cross-validate.ts';
import { readIndex } from '../features/store.ts';
import { crossValidateSeeds, seedsReportPath, seedsSummary } from '../eval/cv-seeds.ts';
import { formatStat } from '../eval/repeated.ts';
import { intAtLeast, positiveInt } from './int-option.ts';
import { resolveConfig } from './train.ts';

interface CvCliOptions {
  features: string;
  out: string;
  config?: string;
  folds: number;
  members: number;
  jobs?: number;
  threads?: number;
  frames?: number;
  foldsFrom?: string;
  seeds?: number[];
  resume?: boolean;
  progress: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The console summary: pooled figures, each fold, the confusion matrix and the worst sources. */
export function summary(r: CrossValidationReport, worst = 12): string {
  const lines = [
    `${r.folds}-fold cross-validation by source: ${r.clips} clips, each held out once, ${r.frames} frames each`,
    `pooled: accuracy ${pct(r.accuracy)}, macro-F1 ${r.macroF1.toFixed(4)}; per fold macro-F1 ${formatStat(r.foldMacroF1, 4)}`,
    ...r.perFold.map(
      (f) =>
        `  fold ${f.fold}: ${f.clips} clips from ${f.sources.length} sources, accuracy ${pct(f.accuracy)}, macro-F1 ${f.macroF1.toFixed(4)} (val ${f.valMacroF1.map((v) => v.toFixed(3)).join(' / ')})`,
    ),
    `per class (F1): ${r.classes.map((c) => `${c} ${r.perClass[c]!.f1.toFixed(3)}`).join(', ')}`,
    `calibration on the pooled held-out clips: temperature ${r.calibration.temperature.toFixed(3)}, OOD threshold ${r.calibration.oodThreshold.toFixed(3)}; ` +
      `fitted without each clip's fold: ECE ${r.calibration.eceBefore.toFixed(3)} -> ${r.calibration.eceAfter.toFixed(3)}, log-loss ${r.calibration.nllAfter.toFixed(3)}, ${pct(r.calibration.oodFlaggedRate)} flagged ` +
      `(the folds' own validation: ECE ${r.calibration.validationFitted.eceAfter.toFixed(3)}, log-loss ${r.calibration.validationFitted.nllAfter.toFixed(3)}, ${pct(r.calibration.validationFitted.oodFlaggedRate)} flagged)`,
    `confusion (rows true, columns predicted: ${r.classes.join(', ')}):`,
    ...r.confusion.map((row, i) => `  ${r.classes[i]!.padEnd(10)} ${row.map((v) => String(v).padStart(5)).join('')}`),
    `sources with the fewest clips right (of ${r.perSource.length}):`,
    ...r.perSource.slice(0, worst).map(
      (s) =>
        `  ${s.source} (${s.class}): ${s.correct}/${s.clips} right; predicted ${Object.entries(s.predicted)
          .filter(([, n]) => n > 0)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')}`,
    ),
  ];
  return lines.join('\n');
}

async function run(o: CvCliOptions): Promise<void> {
  const base = resolveConfig({ config: o.config, resume: false, out: o.out });
  if (base.folds !== undefined || base.fold !== undefined) throw new Error('set the number of folds with --folds, not in --config');
  const { folds, members, frames } = o;
  const jobs = o.jobs ?? Math.max(1, Math.min(folds, Math.floor(availableParallelism() / members)));
  const threads = o.threads ?? availableParallelism();
  const features = o.features.split(',').filter(Boolean);
  let pinnedFolds: Map<string, number> | undefined;
  if (o.foldsFrom !== undefined) {
    const earlier = readCrossValidation(o.foldsFrom);
    if (earlier.folds !== folds) throw new Error(`${o.foldsFrom} has ${earlier.folds} folds; pass --folds ${earlier.folds}`);
    pinnedFolds = foldsOf(earlier);
    const sources = new Set(readIndex(features[0]!).map((it) => it.source));
    const kept = [...sources].filter((s) => pinnedFolds!.has(s)).length;
    console.error(
      `vidkind cv: ${kept} of ${sources.size} sources keep their folds from ${o.foldsFrom}; ${sources.size - kept} new ones are dealt around them`,
    );
  }
  const bars = o.progress
    ? new cliProgress.MultiBar(
        {
          format: ' {name} |{bar}| {percentage}% | epoch {epoch}/{epochs} | loss {loss} | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const foldBars = new Map<string, cliProgress.SingleBar>();
  const log = (line: string) => (bars ? bars.log(line + '\n') : console.error(line));
  // With --seeds, every line and bar names the seed whose cross-validation it belongs to.
  let seedTag = '';
  const options: CrossValidateOptions = {
    features,
    out: o.out,
    config: base,
    folds,
    members,
    jobs,
    threads,
    resume: !!o.resume,
    frames,
    pinnedFolds,
    foldsFrom: o.foldsFrom === undefined ? undefined : resolve(o.foldsFrom),
    onProgress: (fold, m, p) => {
      if (!bars) return;
      const name = `${seedTag}${members > 1 ? `fold ${fold} member ${m}` : `fold ${fold}`}`;
      const payload = { name, epoch: p.epoch + 1, epochs: p.epochs, loss: p.loss.toFixed(4) };
      let bar = foldBars.get(name);
      if (!bar) foldBars.set(name, (bar = bars.create(p.totalSteps, p.globalStep, payload)));
      bar.update(p.globalStep, payload);
    },
    onEpoch: (fold, m, r) =>
      log(
        `${seedTag}fold ${fold}${members > 1 ? ` member ${m}` : ''} epoch ${r.epoch + 1}: val macro-F1 ${r.valMacroF1.toFixed(4)} (${r.seconds.toFixed(1)} s)`,
      ),
    onFold: (f) =>
      log(
        `${seedTag}fold ${f.fold} held out ${f.sources.length} sources (${f.clips} clips): macro-F1 ${f.macroF1.toFixed(4)}${base.trainOnVal ? " (at its validation's temperature; the report predicts at the other folds')" : ''}`,
      ),
  };
  const h =
    o.seeds === undefined
      ? crossValidate(options)
      : crossValidateSeeds({
          ...options,
          seeds: o.seeds,
          onSeed: (seed) => {
            seedTag = `seed ${seed} `;
            log(`vidkind cv: seed ${seed}`);
          },
        });
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    log('vidkind cv: stopping the running folds after their current step, with checkpoints (Ctrl-C again to quit at once)');
    h.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    const outcome = await h.done;
    bars?.stop();
    if (outcome.status === 'interrupted') {
      console.log(`vidkind cv: interrupted; continue with the same command and --resume (finished folds are kept in ${o.out})`);
      process.exitCode = 130;
      return;
    }
    if (outcome.report.format === 'vidkind-cv-seeds/1') {
      console.log(seedsSummary(outcome.report));
      console.log(`wrote ${seedsReportPath(o.out)} (each seed's cv.json in ${o.out}/seed-<s>)`);
    } else {
      console.log(summary(outcome.report));
      console.log(`wrote ${cvReportPath(o.out)}`);
    }
  } finally {
    bars?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** `--seeds 1,2,3`: distinct non-negative integers. */
function seedList(v: string): number[] {
  const seeds = v.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^\d+$/.test(s))) throw new InvalidArgumentError('expected comma-separated non-negative integers, e.g. 1,2,3');
  const out = seeds.map(Number);
  if (new Set(out).size !== out.length) throw new InvalidArgumentError('a seed is listed twice');
  return out;
}

export function register(program: Command): void {
  program
    .command('cv')
    .description(
      "Cross-validate a training config by source: k runs, each holding out 1/k of every class's sources, scored on them and pooled (cv.json), with the sources it gets wrong.",
    )
    .requiredOption('--features <dir>', 'features directory written by `vidkind extract` (comma-separated: one per backbone)')
    .requiredOption('--out <dir>', 'output directory: fold-<i>/ run directories and cv.json')
    .option('--config <json>', 'training config for every fold: a JSON file, or inline JSON such as \'{"epochs":10}\'')
    .addOption(new Option('--folds <k>', 'number of folds').argParser(intAtLeast(2)).default(5))
    .addOption(new Option('--members <k>', 'heads per fold (an ensemble when > 1)').argParser(positiveInt).default(1))
    .option('--jobs <n>', 'folds trained at once (default: CPU cores / members, at most the folds)', positiveInt)
    .option('--threads <n>', 'threads in all, shared by the folds trained at once (default: CPU cores)', positiveInt)
    .option('--frames <n>', 'score each clip on n evenly spaced frames of the stored ones (as an app sampling n frames would)', positiveInt)
    .option(
      '--folds-from <cv.json>',
      'keep each source in its fold of an earlier cross-validation (a cv.json or its directory); sources it lacks are dealt around them: compares a corpus with added sources on the same folds',
    )
    .option(
      '--seeds <list>',
      'repeat the cross-validation with each training seed (comma-separated, e.g. 1,2,3) on the same folds, into --out/seed-<s>, and report the mean and spread (seeds.json): the seed alone moves the figure, so compare settings this way',
      seedList,
    )
    .option('--resume', 'continue an interrupted cross-validation in --out')
    .option('--no-progress', 'no progress bars (logs only)')
    .action((opts: CvCliOptions) => run(opts));
}
