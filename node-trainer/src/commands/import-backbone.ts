/** `vidkind import-backbone`: a pretrained CNN (TF.js or ONNX) -> the site's backbone ONNX + manifest entry. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { importBackbone } from '../backbone/import-backbone.ts';
import { QUANTIZATIONS, type Quantization } from '../backbone/quantize.ts';

function numbers(n: number) {
  return (value: string): number[] => {
    const parts = value.split(',').map((v) => Number(v.trim()));
    if (parts.length !== n || parts.some((v) => !Number.isFinite(v)))
      throw new InvalidArgumentError(`expected ${n} comma-separated numbers`);
    return parts;
  };
}

function names(value: string): string[] {
  const parts = value.split(',').map((v) => v.trim());
  if (parts.some((v) => !v)) throw new InvalidArgumentError('expected comma-separated names');
  return parts;
}

function cosine(value: string): number {
  const v = Number(value);
  if (!(v >= -1 && v <= 1)) throw new InvalidArgumentError('expected a number in [-1, 1]');
  return v;
}

export function register(program: Command): void {
  program
    .command('import-backbone')
    .description(
      'Convert a pretrained image model (TF.js or ONNX) into a vidkind backbone: an ONNX model with one `frames` input and one ' +
        '`embedding` [N, D] output, weights quantised as asked, checked against the source runtime on real images, and its manifest entry. ' +
        'With --from picture-stats (no source): a backbone of hand-written picture statistics (colour, edges, noise, palette), checked ' +
        'against the same statistics computed in plain TypeScript.',
    )
    .argument('[source]', 'TF.js model directory or package path (e.g. nsfwjs/dist/models/mobilenet_v2), or an .onnx file')
    .addOption(
      new Option('--from <kind>', 'source format, or picture-stats for the hand-written statistics')
        .choices(['tfjs', 'onnx', 'picture-stats'])
        .makeOptionMandatory(),
    )
    .requiredOption('--id <id>', 'backbone id (file name and manifest key), e.g. resnet50')
    .option('--name <name>', 'human-readable name for the manifest')
    .option(
      '--embedding <node>',
      'TF.js layer/node or ONNX output whose value is the embedding (default: input of the first Dense/MatMul for TF.js, the only output for ONNX)',
    )
    .option(
      '--taps <names>',
      'comma-separated intermediate feature maps (TF.js layer/node names, ONNX value names) whose per-channel spatial mean and std ' +
        'are appended, in order, to the embedding: D + 2 * sum(C) values',
      names,
    )
    .option('--out <dir>', 'output directory for <id>.onnx', 'public/models/backbones/')
    .option('--models-dir <dir>', 'directory holding manifest.json (default: the parent of --out)')
    .addOption(new Option('--quantize <mode>', 'weight storage').choices(QUANTIZATIONS).default('uint8'))
    .option('--images <dir>', 'directory of JPEG images for the parity check (default: the bundled test images)')
    .option('--range <lo,hi>', 'pixel range the model expects (default 0,1)', numbers(2))
    .option('--mean <r,g,b>', 'per-channel mean subtracted after scaling (default for NCHW ONNX: ImageNet 0.485,0.456,0.406)', numbers(3))
    .option('--std <r,g,b>', 'per-channel std divided after the mean (default for NCHW ONNX: ImageNet 0.229,0.224,0.225)', numbers(3))
    .option('--licence <licence>', 'licence of the weights (default: the source package licence)')
    .option('--notes <text>', 'provenance notes for the manifest and model card')
    .option('--min-cosine <x>', 'fail (writing nothing) if the parity mean cosine is below this', cosine, 0.999)
    .option('--no-manifest', 'write the .onnx only, leave manifest.json alone')
    .action(async (source: string | undefined, opts: Record<string, unknown>) => {
      const from = opts.from as 'tfjs' | 'onnx' | 'picture-stats';
      if (from === 'picture-stats' && source !== undefined) throw new InvalidArgumentError('--from picture-stats takes no source.');
      if (from !== 'picture-stats' && source === undefined) throw new InvalidArgumentError(`--from ${from} needs a source model.`);
      await importBackbone(
        {
          from,
          source: source ?? '',
          id: opts.id as string,
          name: opts.name as string | undefined,
          embedding: opts.embedding as string | undefined,
          taps: opts.taps as string[] | undefined,
          out: opts.out as string,
          modelsDir: opts.modelsDir as string | undefined,
          quantize: opts.quantize as Quantization,
          images: opts.images as string | undefined,
          range: opts.range as [number, number] | undefined,
          mean: opts.mean as [number, number, number] | undefined,
          std: opts.std as [number, number, number] | undefined,
          licence: opts.licence as string | undefined,
          notes: opts.notes as string | undefined,
          minCosine: opts.minCosine as number,
          writeManifest: opts.manifest !== false,
        },
        (line) => console.log(line),
      );
    });
}
