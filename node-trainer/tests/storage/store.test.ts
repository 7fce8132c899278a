import { mkdtempSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHalf, encodeHalf, fromHalf, toHalf } from '../../src/features/float16.ts';
import { itemKey, openStore, readIndex, readItemFeatures, writeItem } from '../../src/features/store.ts';
import { loadHead, saveHead } from '../../src/head/checkpoint.ts';
import { headParamShapes, HeadConfigSchema } from '../../src/head/params.ts';
import { readManifestFile, upsertBackbone } from '../../src/manifest-file.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vidkind-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('float16', () => {
  it('round-trips exactly representable values and known bit patterns', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(2 ** -24)).toBe(1);
    expect(fromHalf(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
  });

  it('rounds to nearest with relative error below 2^-11', () => {
    const v = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const back = decodeHalf(encodeHalf(v));
    v.forEach((x, i) => {
      if (Math.abs(x) > 6.1e-5) expect(Math.abs(back[i]! - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
    });
  });
});

describe('feature store', () => {
  it('writes, indexes and reads items; ignores a torn index line and indexes the next item after it; refuses another backbone', () => {
    const dir = tmp();
    openStore(dir, { format: 'vidkind-features/1', backbone: 'bb', dim: 3, frames: 2 });
    const item = {
      key: itemKey('a.mp4'),
      path: 'a.mp4',
      class: 'gaming' as const,
      subclass: 'strategy',
      source: 's1',
      durationS: 4,
      frames: 2,
    };
    writeItem(dir, item, Float32Array.from([1, 2, 3, 4, 5, 6]));
    appendFileSync(join(dir, 'index.jsonl'), '{"key":"torn');
    expect(readIndex(dir)).toEqual([item]);
    expect([...readItemFeatures(dir, item.key)]).toEqual([1, 2, 3, 4, 5, 6]);
    // The next item after a torn line is indexed on a line of its own (not glued to the torn one).
    const next = { ...item, key: itemKey('b.mp4'), path: 'b.mp4' };
    writeItem(dir, next, Float32Array.from([6, 5, 4, 3, 2, 1]));
    expect(readIndex(dir)).toEqual([item, next]);
    expect(() => writeItem(dir, item, new Float32Array(5))).toThrow(/expected 2x3/);
    expect(() => openStore(dir, { format: 'vidkind-features/1', backbone: 'other', dim: 3, frames: 2 })).toThrow(/holds features of bb/);
  });
});

describe('head checkpoint', () => {
  it('saves and loads weights by name and shape', () => {
    const config = HeadConfigSchema.parse({
      featureDim: 5,
      projDim: 4,
      lstmHidden: 2,
      lstmLayers: 2,
      attnHeads: 2,
      poolHidden: 3,
      subclasses: 6,
    });
    const weights = new Map(
      headParamShapes(config).map(({ name, shape }, i) => [
        name,
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, j) => i + j / 100),
      ]),
    );
    const dir = tmp();
    saveHead(
      dir,
      {
        format: 'vidkind-head/1',
        config,
        backbone: 'bb',
        frames: 32,
        classes: ['animation', 'gaming', 'natural', 'flat'],
        subclasses: [],
        meta: {},
      },
      weights,
    );
    const loaded = loadHead(dir);
    expect(loaded.head.config).toEqual(config);
    expect([...loaded.weights.get('lstm1/bw/recurrent')!]).toEqual([...weights.get('lstm1/bw/recurrent')!]);
    weights.delete('cls/bias');
    expect(() => saveHead(dir, loaded.head, weights)).toThrow(/missing head parameter "cls\/bias"/);
  });
});

describe('manifest file', () => {
  it('starts empty, upserts entries and versions by content', () => {
    const dir = tmp();
    expect(readManifestFile(dir).backbones).toEqual([]);
    const entry = {
      id: 'bb',
      name: 'BB',
      file: 'backbones/bb.onnx',
      sha256: 'a'.repeat(64),
      bytes: 1,
      input: { name: 'frames', width: 224, height: 224, layout: 'NHWC' as const, range: [0, 1] as [number, number] },
      output: { name: 'embedding', dim: 8 },
      quantization: 'uint8' as const,
      provenance: { source: 'test' },
      licence: 'MIT',
    };
    const v1 = upsertBackbone(dir, entry).version;
    const v2 = upsertBackbone(dir, { ...entry, sha256: 'b'.repeat(64) }).version;
    expect(v1).not.toBe(v2);
    const written = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(written.backbones).toHaveLength(1);
    expect(written.backbones[0].sha256).toBe('b'.repeat(64));
  });
});
