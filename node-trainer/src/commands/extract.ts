/** `vidkind extract`: labelled videos -> backbone features (float16 shards + index), resumable and shardable. */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEVICES, type Device } from '../backbone-runtime/session.ts';
import { extractFeatures, parseShard } from '../extract/extract-features.ts';
import { readLabels } from '../extract/labels.ts';
import { interruptSignal, progressBar } from '../extract/progress.ts';
import { readManifestFile } from '../manifest-file.ts';
import type { DecodeStrategy } from '../decode/frames.ts';
import { positiveInt } from './int-option.ts';

function shard(value: string) {
  try {
    return parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function register(program: Command): void {
  program
    .command('extract')
    .description(
      'Decode labelled videos with ffmpeg at the planned timestamps, preprocess them exactly as the browser does and store the ' +
        'backbone features (float16) with an index. A rerun skips finished videos; failed ones are logged in errors.jsonl and retried.',
    )
    .requiredOption('--videos <dir>', 'directory the paths in the labels CSV are relative to')
    .requiredOption('--labels <csv>', 'labels CSV with header path,class,subclass,source')
    .requiredOption(
      '--backbone <ids>',
      'backbone id from the manifest (e.g. mobilenet-v2-1.0); several, comma-separated, share one decode of each video',
    )
    .requiredOption('--out <dirs>', 'feature store directory (comma-separated: one per backbone, in the same order)')
    .option('--models <dir>', 'directory holding manifest.json and the model files', 'public/models')
    .option('--frames <n>', 'frames sampled per video (the head T)', positiveInt, 32)
    .option('--shard <i/N>', 'extract only shard i of N (1-based), so N machines can split one dataset', shard)
    .addOption(new Option('--device <device>', 'onnxruntime-node execution provider').choices([...DEVICES]).default('cpu'))
    .addOption(
      new Option('--decode <strategy>', 'ffmpeg strategy: one pass, a seek per frame, or chosen by length')
        .choices(['auto', 'pass', 'seek'])
        .default('auto'),
    )
    .option('--batch <n>', 'frames per backbone run', positiveInt, 16)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', positiveInt)
    .option('--decode-ahead <n>', 'clips decoded ahead of the backbone, one ffmpeg each (default: cores + 1, at most 8)', positiveInt)
    .option('--no-progress', 'no progress bar')
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const modelsDir = resolve(opts.models as string);
      const manifest = readManifestFile(modelsDir);
      let rows;
      try {
        rows = readLabels(resolve(opts.labels as string), resolve(opts.videos as string), manifest.taxonomy);
      } catch (e) {
        cmd.error(`vidkind extract: ${(e as Error).message}`, { exitCode: 2, code: 'vidkind.usage' });
      }
      const ids = String(opts.backbone).split(',').filter(Boolean);
      const outs = String(opts.out).split(',').filter(Boolean);
      const unknown = ids.find((id) => !manifest.backbones.some((b) => b.id === id));
      if (unknown !== undefined || ids.length === 0)
        cmd.error(
          `vidkind extract: no backbone "${unknown ?? ''}" in ${modelsDir}/manifest.json (have: ${manifest.backbones.map((b) => b.id).join(', ') || 'none'})`,
          { exitCode: 2, code: 'vidkind.usage' },
        );
      if (outs.length !== ids.length || new Set(outs.map((o) => resolve(o))).size !== outs.length)
        cmd.error(`vidkind extract: --out needs one distinct directory per backbone (${ids.length}), got ${outs.length}`, {
          exitCode: 2,
          code: 'vidkind.usage',
        });
      const bar = progressBar('extract', opts.progress !== false);
      const stop = interruptSignal(() => console.error('\nvidkind extract: stopping (Ctrl-C again to quit at once)…'));
      try {
        const summary = await extractFeatures({
          rows: rows!,
          manifest,
          modelsDir,
          backbone: ids[0]!,
          out: resolve(outs[0]!),
          more: ids.slice(1).map((id, k) => ({ backbone: id, out: resolve(outs[k + 1]!) })),
          frames: opts.frames as number,
          shard: opts.shard as { i: number; n: number } | undefined,
          device: opts.device as Device,
          strategy: opts.decode as DecodeStrategy,
          batchSize: opts.batch as number,
          threads: opts.threads as number | undefined,
          decodeAhead: opts.decodeAhead as number | undefined,
          signal: stop.signal,
          onProgress: (p) => bar.update(p.done, p.total, `${p.failed} failed, ${p.frames} frames`),
        });
        bar.stop();
        console.log(JSON.stringify({ command: 'extract', ...summary }));
        if (summary.failed > 0)
          console.error(`vidkind extract: ${summary.failed} video(s) failed; see ${outs.map((o) => `${o}/errors.jsonl`).join(', ')}`);
        process.exitCode = summary.cancelled ? 130 : summary.failed > 0 ? 1 : 0;
      } finally {
        bar.stop();
        stop.dispose();
      }
    });
}
