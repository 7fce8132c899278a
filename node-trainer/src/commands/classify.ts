/** `vidkind classify`: headless inference with the exported models, printing the browser's Result JSON (or CSV, or a table). */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { isErrorResult } from '../../../src/core/result.ts';
import { summarize, summaryText } from '../../../src/core/result-summary.ts';
import { DEVICES, type Device } from '../backbone-runtime/session.ts';
import { classifyFiles } from '../classify/classify-files.ts';
import { resolveEnsemble } from '../classify/ensemble-models.ts';
import { FORMATS, jsonLine, resultsTable, resultsToCsv, type Format } from '../classify/format.ts';
import { collectInputs } from '../classify/inputs.ts';
import type { DecodeStrategy } from '../decode/frames.ts';
import { interruptSignal, progressBar } from '../extract/progress.ts';
import { positiveInt } from './int-option.ts';

export function register(program: Command): void {
  program
    .command('classify')
    .description(
      'Classify video files (directories are walked for videos) with the exported models and print one Result per file, the same JSON ' +
        'as the browser export. Exit code 0 if every file succeeded, 1 if any failed (every result is still printed), 2 on usage errors.',
    )
    .argument('<inputs...>', 'video files or directories')
    .option('--models <dir>', 'directory holding manifest.json and the model files', 'public/models')
    .option('--ensemble <id>', 'ensemble id (default: the manifest default)')
    .option('--tta', "test-time augmentation with the manifest's views (flip, crop, temporal shifts)")
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('jsonl'))
    .addOption(new Option('--device <device>', 'onnxruntime-node execution provider').choices([...DEVICES]).default('cpu'))
    .addOption(new Option('--decode <strategy>', 'ffmpeg strategy').choices(['auto', 'pass', 'seek']).default('auto'))
    .option('--decode-ahead <n>', 'files decoded ahead of inference, one ffmpeg each (default: cores + 1, at most 8)', positiveInt)
    .option('--no-progress', 'no progress bar')
    .action(async (inputs: string[], opts: Record<string, unknown>, cmd: Command) => {
      const usage = (msg: string): never => cmd.error(`vidkind classify: ${msg}`, { exitCode: 2, code: 'vidkind.usage' });
      const { files, missing, unreadable } = collectInputs(inputs);
      if (missing.length) usage(`no such file or directory: ${missing.join(', ')}`);
      for (const u of unreadable) console.error(`vidkind classify: skipped ${u}: it could not be read`);
      if (files.length === 0) usage(`no video files found in ${inputs.join(', ')}`);
      const modelsDir = resolve(opts.models as string);
      try {
        resolveEnsemble(modelsDir, opts.ensemble as string | undefined);
      } catch (e) {
        usage((e as Error).message);
      }
      const format = opts.format as Format;
      const bar = progressBar('classify', opts.progress !== false);
      const stop = interruptSignal(() => console.error('\nvidkind classify: stopping (Ctrl-C again to quit at once)…'));
      let failed = 0;
      try {
        bar.update(0, files.length);
        const { results, cancelled } = await classifyFiles(files, {
          models: modelsDir,
          ensemble: opts.ensemble as string | undefined,
          tta: opts.tta === true,
          device: opts.device as Device,
          strategy: opts.decode as DecodeStrategy,
          decodeAhead: opts.decodeAhead as number | undefined,
          signal: stop.signal,
          onResult: (r, i) => {
            if (isErrorResult(r)) failed++;
            // JSON lines stream as results arrive; CSV and the table need every row first.
            if (format === 'jsonl') process.stdout.write(jsonLine(r) + '\n');
            bar.update(i + 1, files.length, `${failed} failed`);
          },
        });
        bar.stop();
        if (format === 'csv') process.stdout.write(resultsToCsv(results));
        if (format === 'table') process.stdout.write(resultsTable(results));
        // One closing line for people on stderr; stdout stays the results alone.
        console.error(
          `vidkind classify: ${summaryText(summarize(results))}${cancelled ? ` (stopped: ${files.length - results.length} not classified)` : ''}`,
        );
        process.exitCode = cancelled ? 130 : failed > 0 ? 1 : 0;
      } finally {
        bar.stop();
        stop.dispose();
      }
    });
}
