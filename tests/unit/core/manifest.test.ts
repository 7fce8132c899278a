import { describe, expect, it } from 'vitest';
import { VidkindError } from '../../../src/core/errors';
import { chosenEnsemble, ensembleModels, parseManifest, pickEnsemble, sha256Hex, verifyModelBytes } from '../../../src/core/manifest';
import { unusedModelFiles } from '../../../src/core/model-files';
import { sampleManifest } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate untyped JSON on purpose
type M = any;

describe('manifest schema', () => {
  it('accepts a valid manifest and fills defaults', () => {
    const m = parseManifest(sampleManifest());
    expect(m.segments).toEqual({ window: 8, stride: 4 });
    expect(m.tta.views[1]).toEqual({ id: 'flip', flip: true, crop: 1, shift: 0 });
    expect(pickEnsemble(m).id).toBe('pair');
    const { heads, backbones } = ensembleModels(m, pickEnsemble(m));
    expect(heads.map((h) => h.id)).toEqual(['head-a', 'head-b']);
    expect(backbones.map((b) => b.id)).toEqual(['bb-a']);
  });

  it('names the model files no ensemble can load', () => {
    const raw = sampleManifest() as M;
    expect(unusedModelFiles(parseManifest(raw))).toEqual([]);
    // A second backbone with a head of its own that is in no ensemble: both are unused.
    raw.backbones.push({ ...raw.backbones[0], id: 'bb-b', file: 'backbones/b.onnx' });
    raw.heads.push({ ...raw.heads[1], id: 'head-c', backbone: 'bb-b', file: 'heads/c.onnx' });
    expect(unusedModelFiles(parseManifest(raw))).toEqual(['backbones/b.onnx', 'heads/c.onnx']);
    // Once an ensemble uses head-c, it and its backbone are in use; head-b stays in use through "pair".
    raw.ensembles.push({ id: 'other', name: 'Other', members: ['head-c'], temperature: 1, oodThreshold: 0.9 });
    expect(unusedModelFiles(parseManifest(raw))).toEqual([]);
  });

  it.each([
    ['unknown backbone', (m: M) => (m.heads[0].backbone = 'nope'), /unknown backbone/],
    ['unknown ensemble member', (m: M) => (m.ensembles[0].members = ['ghost']), /unknown head/],
    ['bad sha256', (m: M) => (m.backbones[0].sha256 = 'xyz'), /sha256/],
    ['absolute file', (m: M) => (m.backbones[0].file = '/etc/passwd'), /relative/],
    ['remote file', (m: M) => (m.heads[0].file = 'https://evil.example/x.onnx'), /relative/],
    ['parent dir', (m: M) => (m.heads[0].file = '../x.onnx'), /relative/],
    ['subclasses out of step', (m: M) => m.heads[0].subclasses.reverse(), /subclasses do not match/],
    ['wrong schema version', (m: M) => (m.schemaVersion = 2), /schemaVersion/],
    ['bad default ensemble', (m: M) => (m.defaultEnsemble = 'x'), /defaultEnsemble/],
  ])('refuses %s with invalid-manifest', (_name, mutate, message) => {
    const m = sampleManifest();
    mutate(m);
    try {
      parseManifest(m);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(VidkindError);
      expect((e as VidkindError).code).toBe('invalid-manifest');
      expect((e as Error).message).toMatch(message);
    }
  });

  it('pickEnsemble names a missing ensemble', () => {
    expect(() => pickEnsemble(parseManifest(sampleManifest()), 'missing')).toThrow(/No ensemble named "missing"/);
  });

  it("chosenEnsemble takes a remembered choice the manifest no longer has as the manifest's default", () => {
    const base = sampleManifest() as { ensembles: Array<Record<string, unknown>>; defaultEnsemble?: string };
    const m = parseManifest({
      ...base,
      ensembles: [...base.ensembles, { ...base.ensembles[0], id: 'solo', name: 'Solo' }],
      defaultEnsemble: 'solo',
    });
    expect(chosenEnsemble(m, 'pair').id).toBe('pair');
    expect(chosenEnsemble(m, 'gone').id).toBe('solo');
    expect(chosenEnsemble(m).id).toBe('solo');
  });
});

describe('integrity', () => {
  it('computes sha256 like the standard test vectors', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new ArrayBuffer(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('accepts matching bytes and refuses tampered ones', async () => {
    const bytes = new TextEncoder().encode('model');
    const entry = { id: 'm', file: 'm.onnx', sha256: await sha256Hex(bytes) };
    await expect(verifyModelBytes(entry, bytes)).resolves.toBeUndefined();
    const tampered = bytes.slice();
    tampered[0] = tampered[0]! ^ 1;
    await expect(verifyModelBytes(entry, tampered)).rejects.toMatchObject({ code: 'model-integrity' });
  });
});
