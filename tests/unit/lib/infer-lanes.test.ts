/**
 * The inference client's backbone lanes: an ensemble's backbones spread over two workers on WASM
 * when two workers' threads fit the cores, and every call still answers as one worker would (the
 * features of each backbone, in the request's order). The workers are fake Comlink endpoints that
 * record what reaches them; the client code is the real one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackboneEntry, HeadEntry } from '../../../src/core/manifest';
import { backboneLanes, createInferClient } from '../../../src/lib/infer-client';
import type { EmbedRequest, EmbedResult, InferDevice } from '../../../workers/infer/api';
import { workerFactory } from './fake-worker';

// The model store (download, sha256, Cache API) has its own tests; here the workers get 4 bytes.
vi.mock('../../../src/lib/model-store', () => ({ fetchModel: async () => new ArrayBuffer(4) }));

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const backbone = (id: string) => ({ id, sha256: `sha-${id}` }) as unknown as BackboneEntry;
const head = (id: string) => ({ id, sha256: `sha-${id}` }) as unknown as HeadEntry;

/**
 * Workers that record what ensureModels loads into them and embed by writing, for each backbone, the frame's first byte + the backbone's
 * index in `ids` into a 2-float feature, so a merge that mixes backbones or frames shows.
 */
function fakeInferWorkers(device: Pick<InferDevice, 'backboneProvider' | 'threads'>) {
  const loads: Array<{ worker: number; kind: string; id: string }> = [];
  const embeds: Array<{ worker: number; ids: string[]; thumbnail: boolean; firstByte: number }> = [];
  const ids = ['b0', 'b1', 'b2'];
  const w = workerFactory((n) => {
    const have: Array<{ id: string; sha256: string }> = [];
    return {
      configure: async () => ({
        ...device,
        headProvider: 'wasm',
        adapter: null,
        fallbackAdapter: false,
        crossOriginIsolated: true,
        notes: [],
      }),
      loadedModels: async () => have,
      loadModel: async (kind: string, entry: { id: string; sha256: string }) => {
        loads.push({ worker: n, kind, id: entry.id });
        have.push({ id: entry.id, sha256: entry.sha256 });
        return { id: entry.id, kind, provider: 'wasm', createMs: 1, inputNames: [], outputNames: [] };
      },
      embed: async (r: EmbedRequest): Promise<EmbedResult> => {
        const mine = [r.backboneId, ...(r.moreBackboneIds ?? [])];
        const firstByte = r.frames[0]!.data[0]!;
        embeds.push({ worker: n, ids: mine, thumbnail: r.thumbnailMaxSide !== undefined, firstByte });
        const backbones = mine.map((id) => ({
          backboneId: id,
          features: r.views.map((_, v) => Float32Array.of(firstByte, ids.indexOf(id) * 10 + v)),
          dim: 2,
          backboneMs: 5,
        }));
        return {
          features: backbones[0]!.features,
          dim: 2,
          preprocessMs: 2,
          backboneMs: 5 * mine.length,
          backbones,
          thumbnails: r.thumbnailMaxSide ? [{ width: 1, height: 1, data: new Uint8ClampedArray(4) }] : undefined,
        };
      },
      runHead: async () => ({ logits: Float32Array.of(n), classes: 1, ms: 1 }),
    };
  });
  cleanups.push(w.close);
  return { ...w, loads, embeds };
}

function laneClient(device: Pick<InferDevice, 'backboneProvider' | 'threads'>, cores: number, backbones: string[]) {
  const w = fakeInferWorkers(device);
  const client = createInferClient({ backend: 'auto' }, { createWorker: w.createWorker, cores });
  return { w, client, models: { backbones: backbones.map(backbone), heads: [head('h')] } };
}

describe('backboneLanes', () => {
  it('two workers only for an ensemble on WASM whose two workers fit the cores', () => {
    expect(backboneLanes({ backboneProvider: 'wasm', threads: 1 }, 2, 2)).toBe(2);
    expect(backboneLanes({ backboneProvider: 'wasm', threads: 1 }, 8, 3)).toBe(2);
    expect(backboneLanes({ backboneProvider: 'wasm', threads: 3 }, 4, 2)).toBe(1);
    expect(backboneLanes({ backboneProvider: 'wasm', threads: 1 }, 1, 2)).toBe(1);
    expect(backboneLanes({ backboneProvider: 'wasm', threads: 1 }, 2, 1)).toBe(1);
    expect(backboneLanes({ backboneProvider: 'webgpu', threads: 1 }, 16, 2)).toBe(1);
  });
});

describe('inference client with backbone lanes', () => {
  const frame = (byte: number) => ({ width: 1, height: 1, data: Uint8ClampedArray.of(byte, 0, 0, 255) });

  it('spreads the backbones over two workers, keeps the heads on the first and merges embeds in request order', async () => {
    const { w, client, models } = laneClient({ backboneProvider: 'wasm', threads: 1 }, 2, ['b0', 'b1', 'b2']);
    await client.ensureModels({} as never, models);
    expect(w.started).toHaveLength(2);
    expect(w.loads.filter((l) => l.kind === 'backbone').map((l) => [l.worker, l.id])).toEqual(
      expect.arrayContaining([
        [0, 'b0'],
        [1, 'b1'],
        [0, 'b2'],
      ]),
    );
    expect(w.loads.filter((l) => l.kind === 'head')).toEqual([{ worker: 0, kind: 'head', id: 'h' }]);
    expect((await client.device()).notes.join(' ')).toMatch(/side by side in 2 workers/);

    const r = await client.embed({
      backboneId: 'b1',
      moreBackboneIds: ['b0', 'b2'],
      frames: [frame(7)],
      views: [{}, { flip: true }],
      thumbnailMaxSide: 8,
    });
    // b1 asked first: its features are the result's own; every backbone in the request's order.
    expect(r.backbones.map((b) => b.backboneId)).toEqual(['b1', 'b0', 'b2']);
    expect(Array.from(r.features[1]!)).toEqual([7, 11]);
    expect(r.backbones.map((b) => Array.from(b.features[0]!))).toEqual([
      [7, 10],
      [7, 0],
      [7, 20],
    ]);
    expect(r.backboneMs).toBe(15);
    expect(r.preprocessMs).toBe(4);
    expect(r.thumbnails).toHaveLength(1);
    // One call per worker, both with the frame's pixels; one thumbnail asked for in all.
    expect(w.embeds.map((e) => [e.worker, e.ids, e.firstByte])).toEqual(
      expect.arrayContaining([
        [1, ['b1'], 7],
        [0, ['b0', 'b2'], 7],
      ]),
    );
    expect(w.embeds.filter((e) => e.thumbnail)).toHaveLength(1);
    // frames x views x backbones, over both workers.
    expect(client.backboneFrames).toBe(6);
    expect(Array.from((await client.runHead({ headId: 'h', features: new Float32Array(2), n: 1, t: 1 })).logits)).toEqual([0]);
    client.dispose();
    expect(w.started.every((s) => s.terminated)).toBe(true);
  });

  it('one worker where two would not fit the cores, or when told so', async () => {
    for (const [device, cores] of [
      [{ backboneProvider: 'wasm', threads: 2 }, 2],
      [{ backboneProvider: 'webgpu', threads: 1 }, 16],
    ] as const) {
      const { w, client, models } = laneClient(device, cores, ['b0', 'b1']);
      await client.ensureModels({} as never, models);
      const r = await client.embed({ backboneId: 'b0', moreBackboneIds: ['b1'], frames: [frame(3)], views: [{}] });
      expect(r.backbones.map((b) => b.backboneId)).toEqual(['b0', 'b1']);
      expect(w.started).toHaveLength(1);
      expect(w.embeds).toEqual([{ worker: 0, ids: ['b0', 'b1'], thumbnail: false, firstByte: 3 }]);
      client.dispose();
    }
    const w = fakeInferWorkers({ backboneProvider: 'wasm', threads: 1 });
    const client = createInferClient({ backend: 'wasm' }, { createWorker: w.createWorker, cores: 8, backboneWorkers: 1 });
    await client.ensureModels({} as never, { backbones: [backbone('b0'), backbone('b1')], heads: [] });
    expect(w.started).toHaveLength(1);
    client.dispose();
  });
});
