/** The onnxruntime-node backbone session: batching is invisible in the output; a tampered file is refused. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackbone } from '../../src/backbone-runtime/session.ts';
import { makeModelsDir } from './test-models.ts';

const dir = mkdtempSync(join(tmpdir(), 'vidkind-backbone-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frames = Array.from({ length: 7 }, (_, i) => ({
  width: 48 + i,
  height: 40,
  data: Uint8Array.from({ length: (48 + i) * 40 * 4 }, (_, k) => (k * 31 + i * 17) & 255),
}));

describe('openBackbone', () => {
  it('gives the same features whatever the batch size, views change them', async () => {
    const entry = makeModelsDir(dir);
    const one = await openBackbone(dir, entry, { batchSize: 1 });
    const three = await openBackbone(dir, entry, { batchSize: 3 });
    const a = await one.embed(frames);
    const b = await three.embed(frames);
    expect(a.length).toBe(7 * 16);
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-5));
    const flipped = await three.embed(frames, { flip: true });
    expect(Math.max(...flipped.map((v, i) => Math.abs(v - a[i]!)))).toBeGreaterThan(1e-4);
    await Promise.all([one.release(), three.release()]);
  });

  it('refuses a model whose bytes differ from the manifest sha256', async () => {
    const entry = makeModelsDir(dir, 'tampered');
    const file = join(dir, entry.file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1;
    writeFileSync(file, bytes);
    await expect(openBackbone(dir, entry)).rejects.toMatchObject({ code: 'model-integrity' });
  });
});
