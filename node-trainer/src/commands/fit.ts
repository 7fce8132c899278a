/** `vidkind fit`: labelled videos -> a new models folder for the site, in one command (src/fit/fit.ts). */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { DEVICES, type Device } from '../backbone-runtime/session.ts';
import { interruptSignal } from '../extract/progress.ts';
import { DEFAULT_RECIPE, fit, FitInputError, MAX_FOLDS, MIN_SOURCES_PER_CLASS } from '../fit/fit.ts';
import { positiveInt } from './int-option.ts';

interface FitCliOptions {
  videos: string;
  labels?: string;
  to: string;
  base: string;
  work?: string;
  id: string;
  name?: string;
  config?: string;
  fromBase: boolean;
  device: Device;
  threads?: number;
  progress: boolean;
}

async function run(o: FitCliOptions, cmd: Command): Promise<void> {
  let config: Record<string, unknown> | undefined;
  if (o.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(o.config);
    } catch (e) {
      parsed = e;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || parsed instanceof Error)
      cmd.error(`vidkind fit: --config takes a JSON object, such as '{"epochs":10}'`, { exitCode: 2, code: 'vidkind.usage' });
    config = parsed as Record<string, unknown>;
  }
  const to = resolve(o.to);
  const work = resolve(o.work ?? `${to}-work`);
  const bars =
    o.progress && process.stderr.isTTY
      ? new cliProgress.MultiBar(
          { stream: process.stderr, format: ' {name} |{bar}| {value}/{total} | ETA {eta_formatted} | {extra}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const barFor = new Map<string, cliProgress.SingleBar>();
  const show = (name: string, value: number, total: number, extra: string) => {
    if (!bars) return;
    const bar = barFor.get(name);
    if (bar) {
      bar.setTotal(total);
      bar.update(value, { extra });
    } else {
      // A new stage or fold: the finished bars make way for it.
      for (const [other, b] of barFor)
        if (b.getProgress() >= 1) {
          bars.remove(b);
          barFor.delete(other);
        }
      barFor.set(name, bars.create(total, value, { name, extra }));
    }
  };
  const log = (line: string) => (bars ? bars.log(`${line}\n`) : console.error(line));
  const stop = interruptSignal(() => log('vidkind fit: stopping; run the same command again to continue (Ctrl-C again to quit at once)…'));
  try {
    const r = await fit({
      videos: resolve(o.videos),
      labels: o.labels === undefined ? undefined : resolve(o.labels),
      to,
      base: resolve(o.base),
      work,
      id: o.id,
      name: o.name,
      config,
      fresh: !o.fromBase,
      device: o.device,
      threads: o.threads,
      signal: stop.signal,
      log,
      onExtract: (p) => show('features', p.done, p.total, `${p.failed} failed`),
      onTrain: (what, p) => show(what, p.globalStep, p.totalSteps, `epoch ${p.epoch + 1}/${p.epochs}`),
    });
    bars?.stop();
    console.log(
      JSON.stringify({
        command: 'fit',
        cancelled: r.cancelled,
        videos: r.videos,
        skipped: r.skipped.length,
        failed: r.failed,
        clips: r.clips,
        ...(r.crossValidation ? { crossValidation: r.crossValidation } : {}),
        ...(r.baseModels ? { baseModels: r.baseModels } : {}),
        ...(r.exported ? { to, ensemble: r.exported.ensemble.id, manifestVersion: r.exported.manifestVersion } : {}),
        work,
      }),
    );
    if (r.cancelled) {
      process.exitCode = 130;
      return;
    }
    const cv = r.crossValidation!;
    console.error(
      `\nCross-validated by source (${cv.folds} folds: every video judged by heads trained without its source): accuracy ${(100 * cv.accuracy).toFixed(1)}%, macro-F1 ${cv.macroF1.toFixed(3)} over ${cv.clips} videos.\n` +
        (r.baseModels
          ? `The base folder's models ("${r.baseModels.name}") on the same ${r.baseModels.clips} videos: accuracy ${(100 * r.baseModels.accuracy).toFixed(1)}%, macro-F1 ${r.baseModels.macroF1.toFixed(3)}` +
            ` (${comparison(cv, r.baseModels)}; ` +
            `theirs were not trained on these videos, unless some come from their training corpus).\n`
          : '') +
        `The exported heads trained on every source but a validation share; their report: ${r.report}; the folder's MODEL_CARD.md has the rest.\n` +
        `Your models are in ${to}. In the vidkind site, choose Settings → Use models from a folder… and pick that folder;\n` +
        `or classify here: npx vidkind classify --models ${to} <videos>`,
    );
    if (r.failed > 0) process.exitCode = 1;
  } catch (e) {
    bars?.stop();
    if (e instanceof FitInputError) cmd.error(`vidkind fit: ${e.message}`, { exitCode: 2, code: 'vidkind.usage' });
    throw e;
  } finally {
    bars?.stop();
    stop.dispose();
  }
}

/** Which models did better on the user's videos, by accuracy and by macro-F1. */
function comparison(yours: { accuracy: number; macroF1: number }, base: { accuracy: number; macroF1: number }): string {
  const better = (k: 'accuracy' | 'macroF1') => Math.sign(yours[k] - base[k]);
  const [a, f] = [better('accuracy'), better('macroF1')];
  if (a >= 0 && f >= 0) return a + f > 0 ? 'yours do better on these' : 'the same as yours';
  if (a <= 0 && f <= 0) return 'better than yours so far: more videos and sources per class help';
  return `yours do better by ${a > 0 ? 'accuracy' : 'macro-F1'}, theirs by ${a > 0 ? 'macro-F1' : 'accuracy'}; macro-F1 weighs a class with few videos as much as one with many`;
}

export function register(program: Command): void {
  program
    .command('fit')
    .description(
      'Train models on your own labelled videos and export them as a new models folder for the site, in one command: features, ' +
        `one head per backbone of the default recipe (${DEFAULT_RECIPE.backbones.join(' + ')}), cross-validated by source, trained, and ` +
        "exported with the base folder's backbones. Label by folders (<videos>/<class>/[<subclass>/]<source>/<video>) or with --labels. " +
        'Stopped runs continue when run again.',
    )
    .requiredOption(
      '--videos <dir>',
      'the videos: in class folders (animation/, gaming/, natural/, flat/), or the folder --labels paths are relative to',
    )
    .requiredOption('--to <dir>', 'the new models folder (must not hold models yet)')
    .option('--labels <csv>', 'labels CSV with header path,class,subclass,source, instead of the folder layout')
    .option('--base <dir>', 'the models folder to start from: its taxonomy and backbones', 'public/models')
    .option('--work <dir>', 'features, training run and report, kept for a rerun (default: <to>-work)')
    .option('--id <id>', 'ensemble id in the new manifest', 'mine')
    .option('--name <name>', 'ensemble name shown in the app')
    .option(
      '--no-from-base',
      "train each head from a seeded start, instead of starting from the base folder's head on the same backbone and staying near it",
    )
    .option(
      '--config <json>',
      `training settings over the recipe's (inline JSON, e.g. '{"epochs":10}'); every class needs videos from ${MIN_SOURCES_PER_CLASS} ` +
        `sources, and the cross-validation takes up to ${MAX_FOLDS} folds`,
    )
    .addOption(
      new Option('--device <device>', 'onnxruntime-node execution provider for the backbones').choices([...DEVICES]).default('cpu'),
    )
    .option('--threads <n>', 'training threads (default: all cores)', positiveInt)
    .option('--no-progress', 'no progress bars')
    .action((opts: FitCliOptions, cmd: Command) => run(opts, cmd));
}
