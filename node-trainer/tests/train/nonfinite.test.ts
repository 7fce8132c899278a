/** A batch whose loss or gradient is not finite skips its update; many in a row end the run as diverged. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readIndex, writeItem } from '../../src/features/store.ts';
import { loadHead } from '../../src/head/checkpoint.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { makeSplit, MAX_SKIPPED_IN_A_ROW, trainHead } from '../../src/train/loop.ts';
import { readHistory } from '../../src/train/run-dir.ts';
import { TINY_HEAD, writeSyntheticStore } from './synthetic-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vidkind-nonfinite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const [frames, dim] = [4, 8];
const config = parseTrainConfig({ ...TINY_HEAD, epochs: 3, batch: 8, seed: 2, patience: 100 });

/** A store whose listed training clips hold features beyond float16's range (stored as infinity). */
function storeWithBadClips(dir: string, howMany: 'one' | 'all'): void {
  writeSyntheticStore(dir, { clipsPerSource: 3, sourcesPerClass: 5, frames, dim, seed: 4 });
  const items = readIndex(dir);
  const split = makeSplit(items, config);
  const train = items.filter((it) => split[it.key] === 'train');
  for (const it of howMany === 'one' ? train.slice(0, 1) : train) writeItem(dir, it, new Float32Array(frames * dim).fill(1e6));
}

describe('non-finite training steps', () => {
  it('skips the update of a batch with an infinite feature (with a warning) and trains on', async () => {
    const features = join(root, 'one');
    storeWithBadClips(features, 'one');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const out = join(root, 'run-one');
    const r = await trainHead({ features, out, config, resume: false });
    // One batch per epoch holds the bad clip: three skipped updates, each warned about.
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('not finite'))).toHaveLength(3);
    warn.mockRestore();
    expect(r.status).toBe('finished');
    for (const e of readHistory(out)) expect(Number.isFinite(e.trainLoss) && Number.isFinite(e.valLoss)).toBe(true);
    for (const [, w] of loadHead(join(out, 'best')).weights) expect(w.every(Number.isFinite)).toBe(true);
  });

  it(`gives up as diverged after ${MAX_SKIPPED_IN_A_ROW} such steps in a row`, async () => {
    const features = join(root, 'all');
    storeWithBadClips(features, 'all');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(trainHead({ features, out: join(root, 'run-all'), config, resume: false })).rejects.toThrow(/diverged: 5 steps in a row/);
    expect(warn).toHaveBeenCalledTimes(MAX_SKIPPED_IN_A_ROW - 1);
    warn.mockRestore();
  });
});

describe('training settings at their bounds', () => {
  it('subclassWeight 0 trains (the subclass head gets zero gradients instead of tfjs refusing the graph)', async () => {
    const features = join(root, 'plain');
    writeSyntheticStore(features, { clipsPerSource: 3, sourcesPerClass: 5, frames, dim, seed: 4 });
    const out = join(root, 'run-nosub');
    const r = await trainHead({ features, out, config: { ...config, epochs: 1, subclassWeight: 0 }, resume: false });
    expect(r.status).toBe('finished');
    expect(readHistory(out)).toHaveLength(1);
  });
});
