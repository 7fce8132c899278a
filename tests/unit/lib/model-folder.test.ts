/**
 * Models from a folder the user picks (src/lib/model-store.ts): which manifest.json is taken, what a
 * folder must hold, and that a model's bytes are read from the folder and checked, never fetched.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VidkindError } from '../../../src/core/errors';
import { parseManifest } from '../../../src/core/manifest';
import { asFolderFiles } from '../../../src/lib/kept-models';
import { fetchModel, keptFiles, loadManifestFromFolder, type FolderFile } from '../../../src/lib/model-store';
import { sampleManifest } from '../core/fixtures';

const BACKBONE = new Uint8Array([1, 2, 3, 4]);
const HEAD_A = new Uint8Array([5, 6, 7]);
const HEAD_B = new Uint8Array([8, 9]);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The sample manifest with the hashes of the bytes above, as `vidkind export` would write it. */
function manifestJson(edit: (m: Record<string, unknown>) => void = () => undefined): string {
  const m = sampleManifest() as { backbones: Array<Record<string, unknown>>; heads: Array<Record<string, unknown>> };
  m.backbones[0]!.sha256 = sha(BACKBONE);
  m.heads[0]!.sha256 = sha(HEAD_A);
  m.heads[1]!.sha256 = sha(HEAD_B);
  edit(m);
  return JSON.stringify(m);
}

const file = (path: string, body: BlobPart): FolderFile => ({ file: new File([body], path.split('/').at(-1)!), path });

function exportDir(root: string, manifest = manifestJson()): FolderFile[] {
  return [
    file(`${root}/manifest.json`, manifest),
    file(`${root}/MODEL_CARD.md`, '# card'),
    file(`${root}/backbones/a.onnx`, BACKBONE),
    file(`${root}/heads/a.onnx`, HEAD_A),
    file(`${root}/heads/b.onnx`, HEAD_B),
  ];
}

async function rejection(p: Promise<unknown>): Promise<VidkindError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(VidkindError);
  return e as VidkindError;
}

afterEach(() => vi.unstubAllGlobals());

describe('loadManifestFromFolder', () => {
  it('takes the export folder itself, or the folder above it (the shallowest manifest.json)', async () => {
    const direct = await loadManifestFromFolder(exportDir('mine'));
    expect(direct.folder?.name).toBe('mine');
    expect([...direct.folder!.files.keys()].sort()).toEqual([
      'MODEL_CARD.md',
      'backbones/a.onnx',
      'heads/a.onnx',
      'heads/b.onnx',
      'manifest.json',
    ]);
    expect(direct.manifest).toEqual(parseManifest(JSON.parse(manifestJson())));

    // A project folder holding the export and, deeper, another manifest (e.g. a copy in a run directory).
    const nested = await loadManifestFromFolder([
      ...exportDir('project/models'),
      file(
        'project/models/old/manifest.json',
        manifestJson((m) => (m.version = 'old')),
      ),
      file('project/notes.txt', 'x'),
    ]);
    expect(nested.folder?.name).toBe('models');
    expect(nested.manifest.version).toBe('test-1');
    expect(nested.folder!.files.has('notes.txt')).toBe(false);
  });

  it('says what is wrong with a folder that is not an export', async () => {
    expect((await rejection(loadManifestFromFolder([file('x/heads/a.onnx', HEAD_A)]))).message).toMatch(/no manifest\.json/);
    expect((await rejection(loadManifestFromFolder([file('x/manifest.json', '{ not json')]))).code).toBe('invalid-manifest');
    expect((await rejection(loadManifestFromFolder([file('x/manifest.json', '{"schemaVersion": 1}')]))).code).toBe('invalid-manifest');
    const missing = await rejection(loadManifestFromFolder(exportDir('x').filter((f) => !f.path.endsWith('heads/b.onnx'))));
    expect(missing.code).toBe('model-load');
    expect(missing.message).toContain('heads/b.onnx');
    expect(missing.message).not.toContain('heads/a.onnx');
  });

  it('finds files named "./dir/f" in the manifest, and refuses paths out of the folder', async () => {
    const loaded = await loadManifestFromFolder(
      exportDir(
        'x',
        manifestJson((m) => ((m.heads as Array<Record<string, unknown>>)[0]!.file = './heads/a.onnx')),
      ),
    );
    expect(new Uint8Array(await fetchModel(loaded, loaded.manifest.heads[0]!))).toEqual(HEAD_A);
    const outside = await rejection(
      loadManifestFromFolder(
        exportDir(
          'x',
          manifestJson((m) => ((m.heads as Array<Record<string, unknown>>)[1]!.file = '../b.onnx')),
        ),
      ),
    );
    expect(outside.code).toBe('invalid-manifest');
  });
});

describe('fetchModel from a folder', () => {
  it('reads and checks the bytes, never the network or the Cache API', async () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal('fetch', fetchSpy);
    vi.stubGlobal('caches', {
      open: () => {
        throw new Error('the Cache API was used');
      },
    });
    const loaded = await loadManifestFromFolder(exportDir('x'));
    const progress: unknown[] = [];
    const bytes = await fetchModel(loaded, loaded.manifest.backbones[0]!, (p) => progress.push(p));
    expect(new Uint8Array(bytes)).toEqual(BACKBONE);
    expect(progress).toEqual([{ file: 'backbones/a.onnx', loadedBytes: 4, totalBytes: 4, fromCache: false }]);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('refuses a model whose bytes differ from the manifest', async () => {
    const files = exportDir('x').map((f) => (f.path.endsWith('heads/a.onnx') ? file(f.path, new Uint8Array([5, 6, 8])) : f));
    const loaded = await loadManifestFromFolder(files);
    const e = await rejection(fetchModel(loaded, loaded.manifest.heads[0]!));
    expect(e.code).toBe('model-integrity');
    expect(e.message).toContain('heads/a.onnx');
    expect(new Uint8Array(await fetchModel(loaded, loaded.manifest.heads[1]!))).toEqual(HEAD_B);
  });
});

describe('models kept in the browser', () => {
  it('keeps only what the models need, and restores a folder that loads as the picked one did', async () => {
    const picked = await loadManifestFromFolder([
      ...exportDir(
        'project/mine',
        manifestJson((m) => ((m.heads as Array<Record<string, unknown>>)[0]!.file = './heads/a.onnx')),
      ),
      file('project/mine/runs/log.txt', 'training log'),
      file('project/mine/heads/unused.onnx', HEAD_B),
      file('project/notes.txt', 'x'),
    ]);
    const kept = keptFiles(picked);
    expect(kept.name).toBe('mine');
    expect(kept.files.map((f) => f.path).sort()).toEqual([
      'MODEL_CARD.md',
      'backbones/a.onnx',
      'heads/a.onnx',
      'heads/b.onnx',
      'manifest.json',
    ]);

    // IndexedDB hands back Blobs (or Files); as a picked folder they give the same manifest and bytes.
    const stored = { ...kept, files: kept.files.map((f) => ({ path: f.path, file: new Blob([f.file]) })) };
    const restored = await loadManifestFromFolder(asFolderFiles(stored));
    expect(restored.folder?.name).toBe('mine');
    expect(restored.manifest).toEqual(picked.manifest);
    expect(new Uint8Array(await fetchModel(restored, restored.manifest.heads[0]!))).toEqual(HEAD_A);
    expect(await restored.folder!.files.get('MODEL_CARD.md')!.text()).toBe('# card');

    // A kept head changed on disk is refused on restore as on a pick.
    const tampered = { ...stored, files: stored.files.map((f) => (f.path === 'heads/b.onnx' ? { ...f, file: new Blob([HEAD_A]) } : f)) };
    const again = await loadManifestFromFolder(asFolderFiles(tampered));
    expect((await rejection(fetchModel(again, again.manifest.heads[1]!))).code).toBe('model-integrity');
  });

  it("keeps nothing of the site's own models", () => {
    expect(() => keptFiles({ manifest: parseManifest(JSON.parse(manifestJson())), url: 'https://x/models/manifest.json' })).toThrow(
      /folder/,
    );
  });
});
