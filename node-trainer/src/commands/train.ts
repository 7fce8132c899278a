/** `vidkind train`: trains a head (or an ensemble of heads) on extracted features. */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { trainEnsemble } from '../train/ensemble.ts';
import { trainHead, type TrainProgress, type TrainResult } from '../train/loop.ts';
import { readRunConfig, runPaths } from '../train/run-dir.ts';

interface TrainCliOptions {
  features: string;
  out: string;
  config?: string;
  resume?: boolean;
  members: string;
  threads?: string;
  progress: boolean;
}

/** --config takes a JSON file or inline JSON; on --resume without it, the run's own config is reused. */
export function resolveConfig(o: Pick<TrainCliOptions, 'config' | 'resume' | 'out'>): TrainConfig {
  if (o.config) {
    const text = o.config.trim().startsWith('{') ? o.config : readFileSync(o.config, 'utf8');
    return parseTrainConfig(JSON.parse(text));
  }
  if (o.resume && existsSync(runPaths(o.out).config)) return readRunConfig(o.out).train;
  return parseTrainConfig({});
}

function describe(r: TrainResult): string {
  const best = r.bestEpoch >= 0 ? `best epoch ${r.bestEpoch + 1}, val macro-F1 ${r.bestF1.toFixed(4)}` : 'no epoch finished yet';
  const what = {
    finished: 'finished',
    'early-stopped': 'stopped early',
    interrupted: 'interrupted (resume with --resume)',
    'already-done': 'already complete',
  }[r.status];
  return `${r.out}: ${what} after ${r.epochsTrained} epoch(s); ${best}`;
}

async function run(o: TrainCliOptions): Promise<void> {
  const config = resolveConfig(o);
  const members = Number(o.members);
  if (!Number.isInteger(members) || members < 1) throw new Error(`--members must be a positive integer, got "${o.members}"`);
  const features = o.features.split(',').filter(Boolean);
  const threads = o.threads === undefined ? availableParallelism() : Number(o.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got "${o.threads}"`);
  const bars = o.progress
    ? new cliProgress.MultiBar(
        {
          format: ' {name} |{bar}| {percentage}% | epoch {epoch}/{epochs} | loss {loss} | lr {lr} | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const memberBars = new Map<number, cliProgress.SingleBar>();
  const show = (i: number, p: TrainProgress) => {
    if (!bars) return;
    const payload = {
      name: members > 1 ? `member ${i}` : 'train',
      epoch: p.epoch + 1,
      epochs: p.epochs,
      loss: p.loss.toFixed(4),
      lr: p.lr.toExponential(2),
    };
    let bar = memberBars.get(i);
    if (!bar) memberBars.set(i, (bar = bars.create(p.totalSteps, p.globalStep, payload)));
    bar.update(p.globalStep, payload);
  };
  const log = (line: string) => (bars ? bars.log(line + '\n') : console.error(line));
  let stopRequested = false;
  let stop = () => {};
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    log('vidkind train: stopping after the current step and saving a checkpoint (Ctrl-C again to quit at once)');
    stop();
  };
  process.on('SIGINT', onSigint);
  try {
    let results: TrainResult[];
    if (members === 1 && features.length === 1) {
      results = [
        await trainHead({
          features: features[0]!,
          out: o.out,
          config,
          resume: !!o.resume,
          threads,
          shouldStop: () => stopRequested,
          onProgress: (p) => show(0, p),
          onEpoch: (r) =>
            log(
              `epoch ${r.epoch + 1}: train loss ${r.trainLoss.toFixed(4)}, val loss ${r.valLoss.toFixed(4)}, val macro-F1 ${r.valMacroF1.toFixed(4)} (${r.seconds.toFixed(1)} s)`,
            ),
        }),
      ];
    } else {
      const h = trainEnsemble({
        features,
        out: o.out,
        config,
        members,
        resume: !!o.resume,
        threads,
        onProgress: show,
        onEpoch: (i, r) => log(`member ${i} epoch ${r.epoch + 1}: val macro-F1 ${r.valMacroF1.toFixed(4)} (${r.seconds.toFixed(1)} s)`),
      });
      stop = h.stop;
      results = await h.done;
    }
    bars?.stop();
    for (const r of results) console.log(describe(r));
    if (results.some((r) => r.status === 'interrupted')) process.exitCode = 130;
  } finally {
    bars?.stop();
    process.off('SIGINT', onSigint);
  }
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train the classification head (or an ensemble) on extracted features, with checkpoints and --resume.')
    .requiredOption(
      '--features <dir>',
      'features directory written by `vidkind extract` (comma-separated: one per backbone, for an ensemble)',
    )
    .requiredOption('--out <dir>', 'run directory (config.json, state/, best/, history.json)')
    .option('--config <json>', 'training config: a JSON file, or inline JSON such as \'{"epochs":10}\'')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .addOption(new Option('--members <k>', 'train an ensemble of k heads in parallel worker threads').default('1'))
    .option(
      '--threads <n>',
      'threads in all (default: CPU cores); each head computes its config.shards gradient shards on its share of them',
    )
    .option('--no-progress', 'no progress bar (logs only)')
    .action((opts: TrainCliOptions) => run(opts));
}
