/**
 * TEST MODELS for the inference e2e tests: heads exported by node-trainer's exporter from seeded,
 * untrained weights (`features` [N,T,D] -> `logits`, `sub_logits`, `attention`), and, only when no
 * backbone ships yet, a tiny generated CNN with the backbone's interface (NHWC [0,1] ->
 * `embedding`). They classify nothing; they exercise the pipeline. Every manifest entry is marked
 * `testModel: true`.
 *
 * When the shipped backbone (public/models/backbones/*.onnx, listed in public/models/manifest.json)
 * exists, `writeTestModels` uses it instead of the generated CNN, so the e2e tests run the real
 * backbone in the browser with a test head on top.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { DEFAULT_TAXONOMY, flattenSubclasses } from '../../src/core/taxonomy';
import { Rng } from '../../node-trainer/src/train/rng';
import { parseManifest, type BackboneEntry, type Manifest } from '../../src/core/manifest';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** A seeded PRNG (node-trainer's mulberry32) so the test models are the same on every run. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

function randomTensor(name: string, dims: number[], scale: number, rand: () => number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * scale;
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) };
}

const A = onnx.AttributeProto.AttributeType;
const attrInts = (name: string, ints: number[]) => ({ name, type: A.INTS, ints });
const node = (opType: string, input: string[], output: string[], attribute: object[] = []): NodeProto => ({
  opType,
  input,
  output,
  name: `${opType}_${output[0]}`,
  attribute,
});
const valueInfo = (name: string, dims: Array<number | string>) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

function encode(
  name: string,
  nodes: NodeProto[],
  init: TensorProto[],
  inputs: ReturnType<typeof valueInfo>[],
  outputs: ReturnType<typeof valueInfo>[],
) {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'vidkind e2e test models',
    opsetImport: [{ domain: '', version: 17 }],
    metadataProps: [{ key: 'vidkind.testModel', value: 'true' }],
    graph: { name, node: nodes, initializer: init, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A 2-conv CNN: NHWC [N,size,size,3] in [0,1] -> `embedding` [N,dim]. */
export function testBackboneBytes(size: number, dim: number, seed = 1): Uint8Array {
  const r = prng(seed);
  const init = [
    randomTensor('c1w', [8, 3, 5, 5], 0.4, r),
    randomTensor('c1b', [8], 0.1, r),
    randomTensor('c2w', [16, 8, 3, 3], 0.3, r),
    randomTensor('c2b', [16], 0.1, r),
    randomTensor('fcw', [16, dim], 0.5, r),
    randomTensor('fcb', [dim], 0.1, r),
  ];
  const nodes = [
    node('Transpose', ['frames'], ['nchw'], [attrInts('perm', [0, 3, 1, 2])]),
    node('Conv', ['nchw', 'c1w', 'c1b'], ['c1'], [attrInts('strides', [4, 4]), attrInts('pads', [2, 2, 2, 2])]),
    node('Relu', ['c1'], ['r1']),
    node('Conv', ['r1', 'c2w', 'c2b'], ['c2'], [attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1])]),
    node('Relu', ['c2'], ['r2']),
    node('GlobalAveragePool', ['r2'], ['gap']),
    node('Flatten', ['gap'], ['flat']),
    node('MatMul', ['flat', 'fcw'], ['fc']),
    node('Add', ['fc', 'fcb'], ['embedding']),
  ];
  return encode('test-backbone', nodes, init, [valueInfo('frames', ['N', size, size, 3])], [valueInfo('embedding', ['N', dim])]);
}

/**
 * A head exported by node-trainer's own exporter from seeded initial weights (see
 * export-test-head.mjs): the real head graph, untrained.
 */
export function exportedTestHeadBytes(featureDim: number, subclasses: number, seed: number): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'vidkind-head-')), 'head.onnx');
  const script = join(dirname(fileURLToPath(import.meta.url)), 'export-test-head.mjs');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, String(featureDim), String(subclasses), String(seed), out], {
    encoding: 'utf8',
    // tsx resolves from the repository root, wherever the caller runs.
    cwd: join(dirname(script), '../..'),
  });
  if (r.status !== 0) throw new Error(`exporting a test head failed: ${r.stderr || r.stdout}`);
  const bytes = readFileSync(out);
  rmSync(dirname(out), { recursive: true, force: true });
  return bytes;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface TestModelSet {
  dir: string;
  manifest: Manifest;
  /** True when the shipped backbone from public/models was used. */
  realBackbone: boolean;
}

/**
 * Writes a models directory (manifest.json, backbones/, heads/) for the e2e tests: the shipped
 * backbone when there is one (else a generated one) plus two generated test heads and TTA views.
 */
export function writeTestModels(dir: string, options: { publicModels?: string; frames?: number } = {}): TestModelSet {
  const publicModels = options.publicModels ?? join(process.cwd(), 'public/models');
  const subKeys = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);
  const write = (rel: string, bytes: Uint8Array) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  };

  let backbone: BackboneEntry | undefined;
  const shippedManifest = join(publicModels, 'manifest.json');
  if (existsSync(shippedManifest)) {
    try {
      const shipped = parseManifest(JSON.parse(readFileSync(shippedManifest, 'utf8')));
      // The smallest real CNN keeps the browser tests quick. Not the picture statistics (built by
      // vidkind, no weights, tested against their reference in node-trainer): the parity tests here
      // are about a CNN's convolutions in onnxruntime-web and -node.
      const real = shipped.backbones
        .filter((b) => !b.testModel && b.provenance.source !== 'vidkind' && existsSync(join(publicModels, b.file)))
        .sort((a, b) => a.bytes - b.bytes)[0];
      if (real) {
        write(real.file, readFileSync(join(publicModels, real.file)));
        backbone = real;
      }
    } catch {
      // A manifest being rewritten by another tool: fall back to the generated backbone.
    }
  }
  const realBackbone = backbone !== undefined;
  /** A generated backbone with the real one's interface, written under backbones/<id>.onnx. */
  const generated = (id: string, name: string, dim: number, seed: number): BackboneEntry => {
    const bytes = testBackboneBytes(224, dim, seed);
    const file = `backbones/${id}.onnx`;
    write(file, bytes);
    return {
      id,
      name,
      file,
      sha256: sha256(bytes),
      bytes: bytes.length,
      input: { name: 'frames', width: 224, height: 224, layout: 'NHWC', range: [0, 1] },
      output: { name: 'embedding', dim },
      quantization: 'none',
      provenance: { source: 'tests/e2e/infer-models.ts (seeded random weights)' },
      licence: 'MIT',
      testModel: true,
    };
  };
  backbone ??= generated('test-cnn', 'Test CNN (generated, random weights)', 32, 1);
  const D = backbone.output.dim;
  const heads = [1, 2].map((k) => {
    const bytes = exportedTestHeadBytes(D, subKeys.length, 100 + k);
    const file = `heads/test-head-${k}.onnx`;
    write(file, bytes);
    return {
      id: `test-head-${k}`,
      backbone: backbone.id,
      file,
      sha256: sha256(bytes),
      bytes: bytes.length,
      frames: options.frames ?? 8,
      inputs: { features: 'features' },
      outputs: { logits: 'logits', subLogits: 'sub_logits', attention: 'attention' },
      classes: ['animation', 'gaming', 'natural', 'flat'],
      subclasses: subKeys,
      testModel: true,
    };
  });
  // A second backbone (generated, 16-d, another seed) under its own head: the 'test-two' ensemble
  // runs two backbones on the same frames, as the shipped default does (one or two workers).
  const second = generated('test-cnn-b', 'Test CNN B (generated, random weights)', 16, 7);
  const secondHeadBytes = exportedTestHeadBytes(16, subKeys.length, 103);
  write('heads/test-head-3.onnx', secondHeadBytes);
  heads.push({
    ...heads[0]!,
    id: 'test-head-3',
    backbone: second.id,
    file: 'heads/test-head-3.onnx',
    sha256: sha256(secondHeadBytes),
    bytes: secondHeadBytes.length,
  });
  const manifest = parseManifest({
    schemaVersion: 1,
    version: `test-${sha256(new TextEncoder().encode(heads.map((h) => h.sha256).join() + backbone.sha256)).slice(0, 12)}`,
    taxonomy: DEFAULT_TAXONOMY,
    backbones: [backbone, second],
    heads,
    ensembles: [
      { id: 'test-single', name: 'Test head 1', members: ['test-head-1'], temperature: 1.5, oodThreshold: 0.9 },
      { id: 'test-pair', name: 'Test heads 1+2', members: ['test-head-1', 'test-head-2'], temperature: 1.5, oodThreshold: 0.9 },
      {
        id: 'test-two',
        name: 'Test heads 1+3 (two backbones)',
        members: ['test-head-1', 'test-head-3'],
        temperature: 1.5,
        oodThreshold: 0.9,
      },
    ],
    defaultEnsemble: 'test-single',
    tta: {
      views: [{ id: 'identity' }, { id: 'flip', flip: true }, { id: 'crop-0.875', crop: 0.875 }, { id: 'shift-late', shift: 0.25 }],
    },
    segments: { window: 4, stride: 2 },
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest, realBackbone };
}
