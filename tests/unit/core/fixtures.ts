import { DEFAULT_TAXONOMY, flattenSubclasses } from '../../../src/core/taxonomy';

const sha = (c: string) => c.repeat(64);

/** A small valid manifest for unit tests (no files behind it). */
export function sampleManifest(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    version: 'test-1',
    taxonomy: DEFAULT_TAXONOMY,
    backbones: [
      {
        id: 'bb-a',
        name: 'Backbone A',
        file: 'backbones/a.onnx',
        sha256: sha('a'),
        bytes: 100,
        input: { name: 'frames', width: 224, height: 224, layout: 'NHWC', range: [0, 1] },
        output: { name: 'embedding', dim: 8 },
        quantization: 'uint8',
        provenance: { source: 'unit test' },
        licence: 'MIT',
      },
    ],
    heads: [
      {
        id: 'head-a',
        backbone: 'bb-a',
        file: 'heads/a.onnx',
        sha256: sha('b'),
        bytes: 100,
        frames: 32,
        inputs: { features: 'features' },
        outputs: { logits: 'logits', subLogits: 'sub_logits', attention: 'attention' },
        classes: ['animation', 'gaming', 'natural', 'flat'],
        subclasses: flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key),
      },
      {
        id: 'head-b',
        backbone: 'bb-a',
        file: 'heads/b.onnx',
        sha256: sha('c'),
        bytes: 100,
        frames: 32,
        inputs: { features: 'features' },
        outputs: { logits: 'logits' },
        classes: ['animation', 'gaming', 'natural', 'flat'],
        subclasses: [],
      },
    ],
    ensembles: [{ id: 'pair', name: 'Pair', members: ['head-a', 'head-b'], temperature: 2, oodThreshold: 0.9 }],
    tta: { views: [{ id: 'identity' }, { id: 'flip', flip: true }] },
  };
}
