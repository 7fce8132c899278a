/**
 * `vidkind import-backbone`, the work behind the command: source model (TF.js or ONNX) -> ONNX with
 * one `frames` input and one `embedding` [N, D] output, weights stored as asked, a parity check
 * against the source's own runtime on real images, the file written and its manifest entry upserted.
 * With `taps`, `embedding` also carries the spatial mean and std of intermediate feature maps.
 * Deterministic: the same source and options give byte-identical files.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { BackboneEntry } from '../../../src/core/manifest.ts';
import { frameTensorSize, frameToTensor, type InputSpec } from '../../../src/core/preprocess.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { upsertBackbone } from '../manifest-file.ts';
import { attr, encodeModel, int64Tensor, node, OPSET, pruneAndSort, type Graph, type NodeProto } from './onnx-graph.ts';
import { loadOnnxBackbone } from './onnx-source.ts';
import { compareEmbeddings, runOnnx, runOnnxOutputs, runTfjs, appendTapStatistics, columns, type ParityStats } from './parity.ts';
import { DEFAULT_PARITY_IMAGES, loadParityImages } from './parity-images.ts';
import { PICTURE_STATS, PICTURE_STATS_DIM, PICTURE_STATS_SPEC, pictureStatsGraph, pictureStatsReference } from './picture-stats.ts';
import { storeWeights, type Quantization } from './quantize.ts';
import { loadTfjsModel } from './tfjs-source.ts';
import { tfjsToOnnx, type Tap } from './tfjs-to-onnx.ts';

export interface ImportOptions {
  /** "picture-stats": no source model, the hand-written statistics of picture-stats.ts. */
  from: 'tfjs' | 'onnx' | 'picture-stats';
  /** TF.js model directory / package path, or .onnx file (unused for picture-stats). */
  source: string;
  embedding?: string;
  /**
   * Intermediate feature maps (Keras layer / TF node names for tfjs, value names for onnx) whose
   * per-channel spatial mean and std are appended, in this order, to the embedding.
   */
  taps?: string[];
  id: string;
  name?: string;
  /** Directory the .onnx goes to; the manifest is the one in its parent when that is `.../backbones`. */
  out: string;
  /** Directory of manifest.json (default: the parent of `out`). */
  modelsDir?: string;
  quantize: Quantization;
  /** Images for the parity check (a directory of JPEGs). */
  images?: string;
  /** Input value range and per-channel normalisation (defaults depend on the source, see below). */
  range?: [number, number];
  mean?: [number, number, number];
  std?: [number, number, number];
  licence?: string;
  notes?: string;
  /** Refuse to write a model whose mean cosine to the reference is below this (default 0.999). */
  minCosine?: number;
  /** Skip writing the manifest (tests, dry runs). */
  writeManifest?: boolean;
}

export interface ImportResult {
  file: string;
  bytes: Uint8Array;
  entry: BackboneEntry;
  /** With taps, `parts` compares the source's embedding and the tap statistics separately. */
  parity: ParityStats & { reference: string; images: number; parts?: { embedding: ParityStats; taps: ParityStats } };
}

interface Prepared {
  graph: Graph;
  spec: InputSpec;
  /** The whole `embedding` width: the source's embedding plus 2 * channels per tap. */
  dim: number;
  /** The width of the source's own embedding (the first `baseDim` values). */
  baseDim: number;
  embeddingNode: string;
  /** Source names of the taps, in order, with their channel counts. */
  taps: Tap[];
  provenance: BackboneEntry['provenance'];
  licence: string;
  defaultName: string;
  reference: (batch: Float32Array, dims: number[]) => Promise<Float32Array>;
  referenceName: string;
}

/** torchvision's ImageNet normalisation, what a torchvision export expects by default. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

async function prepareTfjs(o: ImportOptions): Promise<Prepared> {
  const model = loadTfjsModel(o.source);
  const taps = o.taps ?? [];
  const converted = tfjsToOnnx(model, o.embedding, taps);
  const where = model.pkg ? relative(model.pkg.root, model.dir).split('\\').join('/') : basename(model.dir);
  return {
    graph: poolTapsIntoEmbedding(converted.graph, converted.dim, converted.taps),
    // TF.js image models take NHWC; nsfwjs (and most TF.js image models) feed pixels / 255.
    spec: { ...converted.inputSize, layout: 'NHWC', range: o.range ?? [0, 1], mean: o.mean, std: o.std },
    dim: tappedDim(converted.dim, converted.taps),
    baseDim: converted.dim,
    embeddingNode: converted.embeddingNode,
    taps: converted.taps,
    provenance: {
      source: 'tfjs',
      package: model.pkg?.name,
      version: model.pkg?.version,
      path: where,
      notes: [
        `TF.js ${model.format} model; embedding = output of "${converted.embeddingNode}"${tapNotes(converted.dim, converted.taps)}.`,
        o.notes,
      ]
        .filter(Boolean)
        .join(' '),
    },
    licence: o.licence ?? model.pkg?.licence ?? 'unspecified',
    defaultName: model.pkg ? `${model.pkg.name} ${basename(model.dir)}` : basename(model.dir),
    reference: (batch, dims) => runTfjs(model, converted.embeddingNode, batch, dims, taps),
    referenceName: `tfjs (${model.pkg ? `${model.pkg.name}@${model.pkg.version} ` : ''}TF.js runtime)`,
  };
}

async function prepareOnnx(o: ImportOptions): Promise<Prepared> {
  const file = resolve(o.source);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    throw new Error(`Cannot read ONNX file "${o.source}".`);
  }
  const b = await loadOnnxBackbone(bytes, o.source, o.embedding, o.taps);
  const nchw = b.layout === 'NCHW';
  const taps = b.reference.taps.map((name, i) => ({ name, channels: b.taps[i]!.channels }));
  return {
    graph: poolTapsIntoEmbedding(b.graph, b.dim, b.taps),
    spec: {
      ...b.inputSize,
      layout: b.layout,
      range: o.range ?? [0, 1],
      // A channels-first export is most likely torchvision's: ImageNet mean/std unless told otherwise.
      mean: o.mean ?? (nchw ? IMAGENET_MEAN : undefined),
      std: o.std ?? (nchw ? IMAGENET_STD : undefined),
    },
    dim: tappedDim(b.dim, b.taps),
    baseDim: b.dim,
    embeddingNode: b.embeddingNode,
    taps,
    provenance: {
      source: 'onnx',
      path: basename(file),
      notes: [
        `ONNX import; embedding = "${b.embeddingNode}"${tapNotes(b.dim, taps)}; source sha256 ${createHash('sha256').update(bytes).digest('hex')}.`,
        o.notes,
      ]
        .filter(Boolean)
        .join(' '),
    },
    licence: o.licence ?? 'unspecified',
    defaultName: basename(file).replace(/\.onnx$/i, ''),
    reference: async (batch, dims) => {
      const [emb, ...maps] = await runOnnxOutputs(
        b.reference.bytes,
        b.reference.input,
        [b.reference.output, ...b.reference.taps],
        batch,
        dims,
      );
      return appendTapStatistics(emb!.data, dims[0]!, maps, 'NCHW');
    },
    referenceName: 'onnx fp32 (source model in onnxruntime-node)',
  };
}

function preparePictureStats(o: ImportOptions): Prepared {
  if (o.taps?.length) throw new Error('--taps does not apply to --from picture-stats (it has no feature maps).');
  if (o.embedding !== undefined) throw new Error('--embedding does not apply to --from picture-stats.');
  const spec: InputSpec = { ...PICTURE_STATS_SPEC, range: o.range ?? PICTURE_STATS_SPEC.range, mean: o.mean, std: o.std };
  return {
    graph: pictureStatsGraph(spec),
    spec,
    dim: PICTURE_STATS_DIM,
    baseDim: PICTURE_STATS_DIM,
    embeddingNode: 'embedding',
    taps: [],
    provenance: {
      source: 'vidkind',
      path: 'node-trainer/src/backbone/picture-stats.ts',
      notes: [`No learned weights; ${PICTURE_STATS_DIM} statistics per frame: ${PICTURE_STATS.join('; ')}.`, o.notes]
        .filter(Boolean)
        .join(' '),
    },
    licence: o.licence ?? 'MIT (vidkind)',
    defaultName: 'Picture statistics',
    reference: (batch, dims) => Promise.resolve(pictureStatsReference(batch, dims[0]!, spec)),
    referenceName: 'picture statistics in plain TypeScript loops (float64)',
  };
}

const tappedDim = (dim: number, taps: Tap[]) => dim + 2 * taps.reduce((n, t) => n + t.channels, 0);

/** What the provenance notes say about taps (nothing without taps). */
function tapNotes(dim: number, taps: Tap[]): string {
  if (!taps.length) return '';
  const list = taps.map((t) => `${t.name} (${t.channels})`).join(', ');
  return ` (${dim}-d), then per tap its spatial mean then its spatial std (population, per channel) over ${list}: ${tappedDim(dim, taps)}-d in all`;
}

/**
 * Pools each tap (an NCHW value of `g`, kept as an extra output by the converter) into its
 * per-channel spatial mean and std and makes `embedding` = concat([embedding, mean_1, std_1, ...], 1).
 * std is computed centred, sqrt(ReduceMean((x - mean)^2)), which is stable in float32. Without taps the
 * graph is returned as it is, so plain imports stay byte-identical.
 */
export function poolTapsIntoEmbedding(g: Graph, dim: number, taps: Tap[]): Graph {
  if (!taps.length) return g;
  // ReduceMean takes `axes` as an attribute up to opset 17, as an input from 18 (ONNX imports keep their opset).
  const opset = g.opsetImports?.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? OPSET;
  const constants = [...g.constants];
  const hw = 'taps/axes_hw';
  if (opset >= 18) constants.push(int64Tensor(hw, [2, 3]));
  const reduceMean = (x: string, out: string, keepdims: number): NodeProto =>
    opset >= 18
      ? node('ReduceMean', [x, hw], [out], out, [attr.int('keepdims', keepdims)])
      : node('ReduceMean', [x], [out], out, [attr.ints('axes', [2, 3]), attr.int('keepdims', keepdims)]);
  const base = 'embedding/base';
  const nodes = g.nodes.map((n) =>
    (n.output ?? []).includes('embedding') ? { ...n, output: n.output!.map((o) => (o === 'embedding' ? base : o)) } : n,
  );
  const parts = [base];
  taps.forEach((t, i) => {
    const p = `taps/${i}`;
    nodes.push(
      reduceMean(t.name, `${p}/mean_nchw`, 1),
      node('Flatten', [`${p}/mean_nchw`], [`${p}/mean`], `${p}/mean`, [attr.int('axis', 1)]),
      node('Sub', [t.name, `${p}/mean_nchw`], [`${p}/centred`], `${p}/centred`),
      node('Mul', [`${p}/centred`, `${p}/centred`], [`${p}/squared`], `${p}/squared`),
      reduceMean(`${p}/squared`, `${p}/var`, 0),
      node('Sqrt', [`${p}/var`], [`${p}/std`], `${p}/std`),
    );
    parts.push(`${p}/mean`, `${p}/std`);
  });
  nodes.push(node('Concat', parts, ['embedding'], 'embedding/taps', [attr.int('axis', 1)]));
  return pruneAndSort({ ...g, nodes, constants, outputs: [{ name: 'embedding', dims: ['N', tappedDim(dim, taps)] }] });
}

/** Preprocesses the parity images into one batch with the entry's own spec (src/core/preprocess). */
export function parityBatch(spec: InputSpec, dir = DEFAULT_PARITY_IMAGES): { batch: Float32Array; dims: number[]; count: number } {
  const images = loadParityImages(dir);
  const size = frameTensorSize(spec);
  const batch = new Float32Array(images.length * size);
  images.forEach((img, i) => frameToTensor(img.frame, spec, {}, batch, i));
  const dims = spec.layout === 'NHWC' ? [images.length, spec.height, spec.width, 3] : [images.length, 3, spec.height, spec.width];
  return { batch, dims, count: images.length };
}

/** Builds the ONNX bytes only (no parity, nothing written): what the determinism test compares. */
export async function convertBackbone(o: ImportOptions): Promise<{ bytes: Uint8Array; prepared: Prepared }> {
  const twice = (o.taps ?? []).find((t, i, all) => all.indexOf(t) !== i);
  if (twice !== undefined) throw new Error(`--taps names "${twice}" twice.`);
  const prepared = o.from === 'tfjs' ? await prepareTfjs(o) : o.from === 'onnx' ? await prepareOnnx(o) : preparePictureStats(o);
  const stored = storeWeights(prepared.graph.weights, o.quantize);
  const bytes = encodeModel(prepared.graph, stored.initializers, stored.nodes, {
    ...(prepared.taps.length ? { 'vidkind.backbone.taps': prepared.taps.map((t) => t.name).join(',') } : {}),
    'vidkind.backbone.id': o.id,
    'vidkind.backbone.embedding_node': prepared.embeddingNode,
    'vidkind.backbone.quantization': o.quantize,
    'vidkind.backbone.source': [
      prepared.provenance.source,
      prepared.provenance.package,
      prepared.provenance.version,
      prepared.provenance.path,
    ]
      .filter(Boolean)
      .join(' '),
  });
  return { bytes, prepared };
}

/** Converts, checks parity, writes `<out>/<id>.onnx` and (unless told not to) the manifest entry. */
export async function importBackbone(o: ImportOptions, log: (line: string) => void = () => {}): Promise<ImportResult> {
  const { bytes, prepared } = await convertBackbone(o);
  const { batch, dims, count } = parityBatch(prepared.spec, o.images);
  const [ref, got] = await Promise.all([prepared.reference(batch, dims), runOnnx(bytes, 'frames', 'embedding', batch, dims)]);
  const stats = compareEmbeddings(ref, got, prepared.dim);
  const describe = (s: ParityStats) =>
    `max |diff| ${s.maxAbsDiff.toExponential(3)}, mean cosine ${s.meanCosine.toFixed(6)} (min ${s.minCosine.toFixed(6)})`;
  log(`parity vs ${prepared.referenceName} on ${count} images: ${describe(stats)}`);
  let parts: ImportResult['parity']['parts'];
  if (prepared.taps.length) {
    // The tap statistics are on their own scale: say how each part fares (the check itself is on the whole vector).
    const baseDim = prepared.baseDim;
    const part = (from: number, to: number) => compareEmbeddings(columns(ref, count, from, to), columns(got, count, from, to), to - from);
    parts = { embedding: part(0, baseDim), taps: part(baseDim, prepared.dim) };
    log(`  embedding part (${baseDim}-d): ${describe(parts.embedding)}`);
    log(`  tap statistics (${prepared.dim - baseDim}-d): ${describe(parts.taps)}`);
  }
  const minCosine = o.minCosine ?? 0.999;
  if (!(stats.meanCosine >= minCosine))
    throw new Error(
      `Parity check failed: mean cosine ${stats.meanCosine.toFixed(6)} < ${minCosine} against ${prepared.referenceName}; nothing was written. ` +
        `Check the input range/normalisation options, or try a less aggressive --quantize.`,
    );

  const outDir = resolve(o.out);
  const modelsDir = resolve(o.modelsDir ?? join(outDir, '..'));
  const file = join(outDir, `${o.id}.onnx`);
  writeFileAtomic(file, bytes);
  const entry: BackboneEntry = {
    id: o.id,
    name: o.name ?? prepared.defaultName,
    file: relative(modelsDir, file).split('\\').join('/'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    input: {
      name: 'frames',
      width: prepared.spec.width,
      height: prepared.spec.height,
      layout: prepared.spec.layout,
      range: prepared.spec.range,
      ...(prepared.spec.mean ? { mean: prepared.spec.mean } : {}),
      ...(prepared.spec.std ? { std: prepared.spec.std } : {}),
    },
    output: { name: 'embedding', dim: prepared.dim },
    quantization: o.quantize,
    provenance: Object.fromEntries(Object.entries(prepared.provenance).filter(([, v]) => v !== undefined)) as BackboneEntry['provenance'],
    licence: prepared.licence,
    parity: {
      reference: prepared.referenceName,
      images: count,
      maxAbsDiff: Number(stats.maxAbsDiff.toPrecision(4)),
      meanCosine: Number(stats.meanCosine.toFixed(6)),
    },
  };
  if (o.writeManifest !== false) upsertBackbone(modelsDir, entry);
  log(
    `wrote ${relative(process.cwd(), file)} (${(bytes.length / 1e6).toFixed(2)} MB, ${o.quantize}, ${prepared.dim}-d, sha256 ${entry.sha256.slice(0, 12)}…)`,
  );
  return { file, bytes, entry, parity: { ...stats, reference: prepared.referenceName, images: count, ...(parts ? { parts } : {}) } };
}
