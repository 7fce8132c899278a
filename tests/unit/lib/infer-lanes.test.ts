/**
 * The inference client's lanes: on WASM, when two workers' threads fit the cores, two workers each
 * hold every backbone, every model is downloaded once for both, and each frame goes to the less
 * busy worker (in turn when they are equally busy); every call still answers as one worker would.
 * The workers are fake Comlink endpoints that record what reaches them; the client code is the real one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackboneEntry, HeadEntry } from '../../../src/core/manifest';
import { createInferClient, inferLanes } from '../../../src/lib/infer-client';
import type { EmbedRequest, EmbedResult, InferDevice } from '../../../workers/infer/api';
import { workerFactory } from './fake-worker';

// The model store (download, sha256, Cache API) has its own tests; here the workers get 4 bytes
// and each download is counted.
const fetched: string[] = [];
vi.mock('../../../src/lib/model-store', () => ({
  fetchModel: async (_: unknown, entry: { id: string }) => {
    fetched.push(entry.id);
    return new ArrayBuffer(4);
  },
}));

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
  fetched.length = 0;
});

const backbone = (id: string) => ({ id, sha256: `sha-${id}` }) as unknown as BackboneEntry;
const head = (id: string) => ({ id, sha256: `sha-${id}` }) as unknown as HeadEntry;

/**
 * Workers that record what ensureModels loads into them and embed by writing, for each backbone, the frame's first byte + the backbone's
 * index in `ids` into a 2-float feature, so a merge that mixes backbones or frames shows.
 */
function fakeInferWorkers(device: Pick<InferDevice, 'backboneProvider' | 'threads'>) {
  const loads: Array<{ worker: number; kind: string; id: string }> = [];
  /** Each worker's embeds wait for its gate: tests hold one to keep embeds in flight there. */
  const gates: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  const opens: Array<() => void> = [() => {}, () => {}];
  const hold = (n: number) => (gates[n] = new Promise<void>((r) => (opens[n] = r)));
  const release = (n: number) => opens[n]!();
  /** Likewise for loading models into a worker. */
  const loadGates: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  const loadOpens: Array<() => void> = [() => {}, () => {}];
  const holdLoads = (n: number) => (loadGates[n] = new Promise<void>((r) => (loadOpens[n] = r)));
  const releaseLoads = (n: number) => loadOpens[n]!();
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
        await loadGates[n];
        loads.push({ worker: n, kind, id: entry.id });
        have.push({ id: entry.id, sha256: entry.sha256 });
        return { id: entry.id, kind, provider: 'wasm', createMs: 1, inputNames: [], outputNames: [] };
      },
      embed: async (r: EmbedRequest): Promise<EmbedResult> => {
        await gates[n];
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
  return { ...w, loads, embeds, hold, release, holdLoads, releaseLoads };
}

function laneClient(device: Pick<InferDevice, 'backboneProvider' | 'threads'>, cores: number, backbones: string[]) {
  const w = fakeInferWorkers(device);
  const client = createInferClient({ backend: 'auto' }, { createWorker: w.createWorker, cores });
  return { w, client, models: { backbones: backbones.map(backbone), heads: [head('h')] } };
}

describe('inferLanes', () => {
  it('two workers only on WASM, where two workers fit the cores', () => {
    expect(inferLanes({ backboneProvider: 'wasm', threads: 1 }, 2)).toBe(2);
    expect(inferLanes({ backboneProvider: 'wasm', threads: 1 }, 8)).toBe(2);
    expect(inferLanes({ backboneProvider: 'wasm', threads: 3 }, 4)).toBe(1);
    expect(inferLanes({ backboneProvider: 'wasm', threads: 1 }, 1)).toBe(1);
    expect(inferLanes({ backboneProvider: 'webgpu', threads: 1 }, 16)).toBe(1);
  });
});

describe('inference client with two lanes', () => {
  const frame = (byte: number) => ({ width: 1, height: 1, data: Uint8ClampedArray.of(byte, 0, 0, 255) });

  it('loads every backbone into both workers from one download each, and keeps the heads on the first', async () => {
    const { w, client, models } = laneClient({ backboneProvider: 'wasm', threads: 1 }, 2, ['b0', 'b1']);
    await client.ensureModels({} as never, models);
    client.loadOtherWorkers();
    await client.whenAllLoaded();
    expect(w.started).toHaveLength(2);
    expect(w.loads.filter((l) => l.kind === 'backbone').map((l) => [l.worker, l.id])).toEqual(
      expect.arrayContaining([
        [0, 'b0'],
        [0, 'b1'],
        [1, 'b0'],
        [1, 'b1'],
      ]),
    );
    expect(w.loads.filter((l) => l.kind === 'head')).toEqual([{ worker: 0, kind: 'head', id: 'h' }]);
    expect(fetched.sort()).toEqual(['b0', 'b1', 'h']);
    expect((await client.device()).notes.join(' ')).toMatch(/side by side in 2 workers/);
    // Loaded already: nothing is fetched or loaded again.
    await client.ensureModels({} as never, models);
    client.loadOtherWorkers();
    await client.whenAllLoaded();
    expect(fetched).toHaveLength(3);
    expect(w.loads).toHaveLength(5);
    // A single-backbone ensemble gets the two workers too.
    const one = laneClient({ backboneProvider: 'wasm', threads: 1 }, 2, ['b0']);
    await one.client.ensureModels({} as never, one.models);
    one.client.loadOtherWorkers();
    await one.client.whenAllLoaded();
    expect(one.w.started).toHaveLength(2);
    client.dispose();
    one.client.dispose();
    expect(w.started.every((s) => s.terminated)).toBe(true);
  });

  it('sends each frame whole to the less busy worker, in turn when both are idle, and answers as one worker', async () => {
    const { w, client, models } = laneClient({ backboneProvider: 'wasm', threads: 1 }, 2, ['b0', 'b1']);
    await client.ensureModels({} as never, models);
    client.loadOtherWorkers();
    await client.whenAllLoaded();
    const embed = (byte: number) =>
      client.embed({ backboneId: 'b1', moreBackboneIds: ['b0'], frames: [frame(byte)], views: [{}, { flip: true }] });
    // Idle workers take frames in turn.
    const first = await embed(1);
    const second = await embed(2);
    expect([first.worker, second.worker]).toEqual([0, 1]);
    // The answer is one worker's, whole: every backbone of the request, in its order, for that frame.
    expect(second.backbones.map((b) => b.backboneId)).toEqual(['b1', 'b0']);
    expect(second.backbones.map((b) => Array.from(b.features[1]!))).toEqual([
      [2, 11],
      [2, 1],
    ]);
    // Busy workers: the next frame goes to the one with fewer embeds in flight, not to the one whose
    // turn it is. Both are held with a frame; worker 1 finishes; the next frame (worker 0's turn)
    // goes to worker 1.
    w.hold(0);
    w.hold(1);
    const a = embed(3);
    const b = embed(4);
    w.release(1);
    expect((await b).worker).toBe(1);
    const d = embed(6);
    expect((await d).worker).toBe(1);
    w.release(0);
    expect((await a).worker).toBe(0);
    expect(w.embeds.map((e) => e.ids)).toEqual(Array(5).fill(['b1', 'b0']));
    // frames x views x backbones, over both workers.
    expect(client.backboneFrames).toBe(5 * 2 * 2);
    expect(Array.from((await client.runHead({ headId: 'h', features: new Float32Array(2), n: 1, t: 1 })).logits)).toEqual([0]);
    client.dispose();
  });

  it('is ready when the first worker is: the second loads in the background when told the pipeline is idle, and takes frames once loaded', async () => {
    const { w, client, models } = laneClient({ backboneProvider: 'wasm', threads: 1 }, 2, ['b0', 'b1']);
    w.holdLoads(1);
    await client.ensureModels({} as never, models);
    // Not started until the pipeline says it is idle.
    expect(w.started).toHaveLength(1);
    client.loadOtherWorkers();
    const embed = (byte: number) => client.embed({ backboneId: 'b0', moreBackboneIds: ['b1'], frames: [frame(byte)], views: [{}] });
    // The second worker is still loading: idle or not, the first takes every frame.
    expect([(await embed(1)).worker, (await embed(2)).worker]).toEqual([0, 0]);
    w.hold(0);
    const held = embed(3);
    expect((await Promise.race([embed(4), new Promise((r) => setTimeout(() => r('waiting'), 20))])) as unknown).toBe('waiting');
    w.release(0);
    await held;
    w.releaseLoads(1);
    await client.whenAllLoaded();
    expect(w.loads.filter((l) => l.worker === 1).map((l) => l.id)).toEqual(['b0', 'b1']);
    expect([(await embed(5)).worker, (await embed(6)).worker].sort()).toEqual([0, 1]);
    client.dispose();
  });

  it('one worker where two would not fit the cores, on WebGPU, or when told so', async () => {
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
