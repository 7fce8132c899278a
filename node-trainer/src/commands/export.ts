/** `vidkind export`: a training run -> ONNX head(s), manifest entries and a model-card section, after a parity check. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { exportRun } from '../export/export-run.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description(
      'Export a trained head or ensemble as ONNX (opset 17, dynamic N and T) into <to>/heads/, add its head and ensemble entries to ' +
        'manifest.json and a section to MODEL_CARD.md. A parity check (reference forward vs onnxruntime-node vs onnxruntime-web vs tfjs, ' +
        'every output within 1e-4, relative above 1) runs first; if it fails nothing is written.',
    )
    .requiredOption('--run <dir>', 'training run directory (from vidkind train)')
    .option('--to <dir>', 'models directory holding manifest.json', 'public/models')
    .option('--id <id>', 'head/ensemble id (default: the run directory name)')
    .option('--name <name>', 'human-readable ensemble name')
    .option('--default', 'make this ensemble the manifest default (the first export always is)')
    .option('--test-model', 'mark the heads as test models (toy data or random weights)')
    .option('--no-tfjs-parity', 'skip the tfjs leg of the parity check')
    .option(
      '--frames <n>',
      'frames the app samples per video (default: the frames the heads were trained on; evaluate with the same --frames first)',
    )
    .option(
      '--base <dir>',
      'start a new models folder <to> from this one (e.g. public/models): its taxonomy and the backbones the heads need, none of its heads',
    )
    .option('--cv <dir>', 'a `vidkind cv` output of the same training config: its pooled cross-validation goes into the model card')
    .action(async (opts: Record<string, unknown>) => {
      const r = await exportRun({
        run: resolve(opts.run as string),
        to: resolve(opts.to as string),
        id: opts.id as string | undefined,
        name: opts.name as string | undefined,
        testModel: opts.testModel === true,
        makeDefault: opts.default === true,
        tfjsParity: opts.tfjsParity !== false,
        ...(opts.frames !== undefined ? { frames: Number(opts.frames) } : {}),
        ...(opts.cv !== undefined ? { cv: resolve(opts.cv as string) } : {}),
        ...(opts.base !== undefined ? { base: resolve(opts.base as string) } : {}),
      });
      console.log(
        JSON.stringify({
          command: 'export',
          ensemble: r.ensemble.id,
          heads: r.heads.map((h) => ({ id: h.id, file: h.file, bytes: h.bytes })),
          parity: r.parity.map((p) => ({ head: p.head, ...p.maxAbsDiff })),
          manifestVersion: r.manifestVersion,
        }),
      );
    });
}
