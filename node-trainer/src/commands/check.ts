/** `vidkind check`: the exported models, end to end, on labelled videos (src/eval/check.ts). */
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { isErrorResult } from '../../../src/core/result.ts';
import { DEVICES, type Device } from '../backbone-runtime/session.ts';
import { classifyFiles } from '../classify/classify-files.ts';
import { resolveEnsemble } from '../classify/ensemble-models.ts';
import { checkMarkdown, checkReport } from '../eval/check.ts';
import { readLabels, type LabelRow } from '../extract/labels.ts';
import { interruptSignal, progressBar } from '../extract/progress.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export function register(program: Command): void {
  program
    .command('check')
    .description(
      'Score the exported models end to end on labelled videos (a path,class,subclass,source CSV): decode, backbones and heads as ' +
        '`vidkind classify` runs them. Prints accuracy, macro-F1, the confusion matrix and every verdict as Markdown. Exit code 0 ' +
        'when every file was classified, 1 if any could not be, 2 on usage errors.',
    )
    .requiredOption('--labels <csv>', 'labels file: path,class,subclass,source (paths relative to --videos)')
    .option('--videos <dir>', "directory the labels' paths are relative to (default: the labels file's directory)")
    .option('--models <dir>', 'directory holding manifest.json and the model files', 'public/models')
    .option('--ensemble <id>', 'ensemble id (default: the manifest default)')
    .option('--tta', "test-time augmentation with the manifest's views, as `vidkind classify --tta` and the app's setting")
    .option('--out <file>', 'also write the report as JSON (every file, metrics, confusion matrix)')
    .addOption(new Option('--device <device>', 'onnxruntime-node execution provider').choices([...DEVICES]).default('cpu'))
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        o: {
          labels: string;
          videos?: string;
          models: string;
          ensemble?: string;
          tta?: boolean;
          out?: string;
          device: Device;
          progress: boolean;
        },
        cmd: Command,
      ) => {
        const usage = (msg: string): never => cmd.error(`vidkind check: ${msg}`, { exitCode: 2, code: 'vidkind.usage' });
        const modelsDir = resolve(o.models);
        let manifest;
        let ensemble;
        let rows: LabelRow[] = [];
        try {
          ({ manifest, ensemble } = resolveEnsemble(modelsDir, o.ensemble));
          rows = readLabels(resolve(o.labels), resolve(o.videos ?? dirname(o.labels)), manifest.taxonomy);
        } catch (e) {
          usage((e as Error).message);
        }
        if (rows.length === 0) usage(`${o.labels} lists no videos`);
        const bar = progressBar('check', o.progress);
        const stop = interruptSignal(() => console.error('\nvidkind check: stopping (Ctrl-C again to quit at once)…'));
        try {
          let failed = 0;
          bar.update(0, rows.length);
          const { results, cancelled } = await classifyFiles(
            rows.map((r) => r.file),
            {
              models: modelsDir,
              ensemble: o.ensemble,
              tta: o.tta === true,
              device: o.device,
              signal: stop.signal,
              onResult: (r, i) => {
                if (isErrorResult(r)) failed++;
                bar.update(i + 1, rows.length, `${failed} could not be read`);
              },
            },
          );
          bar.stop();
          if (cancelled) {
            console.error(`vidkind check: stopped after ${results.length} of ${rows.length} videos; no report`);
            process.exitCode = 130;
            return;
          }
          const report = checkReport(rows, results, {
            models: { dir: modelsDir, ensemble: ensemble!.id, version: manifest!.version, tta: o.tta === true },
            labels: resolve(o.labels),
          });
          process.stdout.write(checkMarkdown(report, manifest!.taxonomy));
          if (o.out) writeFileAtomic(resolve(o.out), JSON.stringify(report, null, 2) + '\n');
          process.exitCode = failed > 0 ? 1 : 0;
        } finally {
          bar.stop();
          stop.dispose();
        }
      },
    );
}
