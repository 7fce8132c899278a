/**
 * Malformed or unsupported models fail with a clear error that names the problem (the unsupported
 * op and node), and nothing is written.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importBackbone } from '../../src/backbone/import-backbone.ts';
import { attr, encodeModel, node, type Graph } from '../../src/backbone/onnx-graph.ts';
import { resolveModelDir } from '../../src/backbone/tfjs-source.ts';
import { tfjsToOnnx, UnsupportedOpError } from '../../src/backbone/tfjs-to-onnx.ts';
import { loadTfjsModel } from '../../src/backbone/tfjs-source.ts';

const require = createRequire(import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'vidkind-backbone-err-'));

/** A copy of an nsfwjs model directory whose model.json is edited by `edit`. */
function editedTfjsModel(name: string, edit: (json: { modelTopology: Record<string, unknown> }) => void): string {
  const src = resolveModelDir(`nsfwjs/dist/models/${name}`);
  const dir = tmp();
  const json = require(join(src, 'model.min.js')) as { modelTopology: Record<string, unknown> };
  const copy = structuredClone(json);
  edit(copy);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(copy));
  for (const f of readdirSync(src)) if (f.startsWith('group')) copyFileSync(join(src, f), join(dir, f));
  return dir;
}

type GraphNode = { name: string; op: string };
type KerasLayer = { name: string; class_name: string };
const graphNodes = (j: { modelTopology: Record<string, unknown> }) => (j.modelTopology as { node: GraphNode[] }).node;
const kerasLayers = (j: { modelTopology: Record<string, unknown> }) =>
  (j.modelTopology as { model_config: { config: { layers: KerasLayer[] } } }).model_config.config.layers;

describe('TF.js models the converter cannot handle', () => {
  it('names an unsupported graph op and its node', () => {
    const dir = editedTfjsModel('mobilenet_v2_mid', (j) => {
      const n = graphNodes(j).find((x) => x.op === 'AddV2')!;
      n.op = 'Erf';
    });
    const model = loadTfjsModel(dir);
    expect(() => tfjsToOnnx(model)).toThrow(UnsupportedOpError);
    expect(() => tfjsToOnnx(model)).toThrow(/Unsupported TF\.js op: Erf \(node ".*expanded_conv_2\/add"\)/);
  });

  it('names an unsupported Keras layer class', () => {
    const dir = editedTfjsModel('mobilenet_v2', (j) => {
      kerasLayers(j).find((l) => l.name === 'Conv1')!.class_name = 'SeparableConv2D';
    });
    expect(() => tfjsToOnnx(loadTfjsModel(dir))).toThrow(/Unsupported TF\.js op: SeparableConv2D \(layer "Conv1"\)/);
  });

  it('ignores unsupported ops after the embedding (the classifier head is dropped)', () => {
    const dir = editedTfjsModel('mobilenet_v2_mid', (j) => {
      graphNodes(j).find((x) => x.op === 'Softmax')!.op = 'Erf';
    });
    expect(tfjsToOnnx(loadTfjsModel(dir)).dim).toBe(1792);
  });

  it('refuses an embedding that is not pooled to [N, D]', () => {
    expect(() => tfjsToOnnx(loadTfjsModel('nsfwjs/dist/models/mobilenet_v2'), 'Conv1')).toThrow(/not \[N, D\]/);
  });

  it('names a missing weight shard and a missing model', () => {
    const dir = editedTfjsModel('mobilenet_v2', () => {});
    for (const f of readdirSync(dir)) if (f.startsWith('group')) writeFileSync(join(dir, f), '');
    expect(() => loadTfjsModel(dir)).toThrow(/shorter than the manifest says|base64 weight shard/);
    expect(() => loadTfjsModel(join(tmp(), 'nope'))).toThrow(/No TF\.js model/);
  });
});

describe('ONNX files the importer cannot handle', () => {
  it('rejects bytes that are not ONNX', async () => {
    const dir = tmp();
    const file = join(dir, 'broken.onnx');
    writeFileSync(file, Buffer.from('this is not a protobuf model \u0000\u00ff\u00fe garbage'));
    await expect(importBackbone({ from: 'onnx', source: file, id: 'broken', out: join(dir, 'out'), quantize: 'uint8' })).rejects.toThrow(
      /not a valid ONNX model|no graph nodes/,
    );
    expect(existsSync(join(dir, 'out', 'broken.onnx'))).toBe(false);
  });

  it('names an op onnxruntime does not know', async () => {
    const dir = tmp();
    const file = join(dir, 'exotic.onnx');
    const g: Graph = {
      name: 'exotic',
      input: { name: 'x', dims: ['N', 3, 32, 32] },
      outputs: [{ name: 'y', dims: ['N', 3] }],
      nodes: [node('FancyPool', ['x'], ['p'], 'fancy'), node('Flatten', ['p'], ['y'], 'flat', [attr.int('axis', 1)])],
      weights: [],
      constants: [],
    };
    writeFileSync(file, encodeModel(g, [], [], {}));
    await expect(importBackbone({ from: 'onnx', source: file, id: 'exotic', out: join(dir, 'out'), quantize: 'uint8' })).rejects.toThrow(
      /does not run in onnxruntime: .*FancyPool/,
    );
  });

  it('rejects a model with two inputs or a non-image input', async () => {
    const dir = tmp();
    const file = join(dir, 'two.onnx');
    const g: Graph = {
      name: 'seq',
      input: { name: 'x', dims: ['N', 16] },
      outputs: [{ name: 'y', dims: ['N', 16] }],
      nodes: [node('Relu', ['x'], ['y'], 'relu')],
      weights: [],
      constants: [],
    };
    writeFileSync(file, encodeModel(g, [], [], {}));
    await expect(importBackbone({ from: 'onnx', source: file, id: 'seq', out: join(dir, 'out'), quantize: 'uint8' })).rejects.toThrow(
      /has rank 2; a backbone takes \[N, 3, H, W\] or \[N, H, W, 3\]/,
    );
  });
});
