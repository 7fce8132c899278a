/**
 * The decode and inference clients' watchdogs: a worker that stops answering is terminated, its
 * call fails with `timeout`, and the next call gets a fresh worker; a worker that is slow but keeps
 * making progress is never stopped. The workers here are Comlink endpoints on a MessageChannel
 * whose API the test scripts (hang, stream slowly, answer): the client code is the real one.
 */
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { createDecodeClient } from '../../../src/lib/decode-client';
import { createInferClient } from '../../../src/lib/infer-client';
import { workerFactory } from './fake-worker';
import type { DecodedFrame, DecodeOutput, DecodeProgress, DecodeRequest } from '../../../workers/decode/api';
import type { EmbedRequest, InferConfig } from '../../../workers/infer/api';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const never = () => new Promise<never>(() => {});

const file = new Blob([new Uint8Array(16)]) as File;
const frame = (index: number): DecodedFrame => ({
  index,
  timestamp: index,
  actualTimestamp: index,
  attempt: 0,
  shifts: [0],
  width: 1,
  height: 1,
  data: new Uint8ClampedArray(4),
});
const output = (n: number) => ({ info: { durationS: n }, plans: [], shifts: [0], unique: [], frames: [] }) as unknown as DecodeOutput;

type Streamer = (
  req: DecodeRequest,
  onProgress?: (p: DecodeProgress) => void,
  onFrame?: (f: DecodedFrame) => unknown,
) => Promise<DecodeOutput>;

function decodeWorkers(behaviour: (n: number) => Streamer) {
  return workerFactory((n) => ({
    probe: () => (n === 0 ? never() : Promise.resolve({ durationS: 1 })),
    decode: (_f: File, req: DecodeRequest, onProgress?: (p: DecodeProgress) => void, onFrame?: (f: DecodedFrame) => unknown) =>
      behaviour(n)(req, onProgress, onFrame),
    cancel: () => undefined,
  }));
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('decode client watchdog', () => {
  it('a decode with no progress fails with timeout; the worker is terminated and the next file gets a fresh one', async () => {
    const w = decodeWorkers((n) => (n === 0 ? never : async () => output(7)));
    cleanups.push(w.close);
    const client = createDecodeClient({ limits: { decodeStallMs: 150 }, createWorker: w.createWorker });
    const t0 = Date.now();
    const error = await client.decode(file, { frames: 4 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'timeout' });
    expect((error as Error).message).toMatch(/no progress.*0\.2 s|no progress.*0\.1 s/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(w.started).toEqual([{ terminated: true }]);
    await expect(client.decode(file, { frames: 4 })).resolves.toMatchObject({ info: { durationS: 7 } });
    expect(w.started).toHaveLength(2);
    expect(w.started[1]!.terminated).toBe(false);
    client.dispose();
  });

  it('a stuck probe times out too', async () => {
    const w = decodeWorkers(() => async () => output(1));
    cleanups.push(w.close);
    const client = createDecodeClient({ limits: { decodeStallMs: 100 }, createWorker: w.createWorker });
    await expect(client.probe(file)).rejects.toMatchObject({ code: 'timeout' });
    await expect(client.probe(file)).resolves.toEqual({ durationS: 1 });
    client.dispose();
  });

  it('a slow decode that keeps sending frames runs far past the limit without being stopped', async () => {
    const steps = 8;
    const w = decodeWorkers(() => async (_req, onProgress, onFrame) => {
      for (let i = 0; i < steps; i++) {
        await sleep(60); // each step well under the 150 ms limit; all of them far over it
        await onFrame?.(Comlink.transfer(frame(i), []));
        await onProgress?.({ done: i + 1, total: steps });
      }
      return output(steps);
    });
    cleanups.push(w.close);
    const client = createDecodeClient({ limits: { decodeStallMs: 150 }, createWorker: w.createWorker });
    const got: number[] = [];
    const progress: number[] = [];
    const out = await client.decode(
      file,
      { frames: steps },
      { onFrame: (f) => void got.push(f.index), onProgress: (p) => void progress.push(p.done) },
    );
    expect(out.info.durationS).toBe(steps);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(w.started).toEqual([{ terminated: false }]);
    client.dispose();
  });

  it('time spent in our frame callback (back-pressure from the backbone) is not counted against the decoder', async () => {
    const w = decodeWorkers(() => async (_req, _onProgress, onFrame) => {
      await onFrame?.(frame(0));
      await onFrame?.(frame(1));
      return output(2);
    });
    cleanups.push(w.close);
    const client = createDecodeClient({ limits: { decodeStallMs: 100 }, createWorker: w.createWorker });
    const out = await client.decode(file, { frames: 2 }, { onFrame: () => sleep(300) });
    expect(out.info.durationS).toBe(2);
    expect(w.started[0]!.terminated).toBe(false);
    client.dispose();
  });
});

describe('inference client watchdog', () => {
  const config: InferConfig = { backend: 'wasm' };
  const embedRequest = (views = 1): EmbedRequest => ({
    backboneId: 'b',
    frames: [{ width: 1, height: 1, data: new Uint8ClampedArray(4) }],
    views: Array.from({ length: views }, () => ({})),
  });

  function inferWorkers(embed: (n: number) => (r: EmbedRequest) => Promise<unknown>) {
    const configured: number[] = [];
    const w = workerFactory((n) => ({
      configure: async () => {
        configured.push(n);
        return { backboneProvider: 'wasm', headProvider: 'wasm', threads: 1, notes: [] };
      },
      loadedModels: async () => [],
      embed: (r: EmbedRequest) => embed(n)(r),
      runHead: never,
    }));
    cleanups.push(w.close);
    return { ...w, configured };
  }

  it('an embed the worker never answers fails with timeout; the next file configures a fresh worker', async () => {
    const w = inferWorkers((n) => (n === 0 ? never : async () => ({ features: [new Float32Array(1)], backboneMs: 1, preprocessMs: 1 })));
    const client = createInferClient(config, { limits: { inferStallMs: 120 }, createWorker: w.createWorker });
    await client.device();
    await expect(client.embed(embedRequest())).rejects.toMatchObject({ code: 'timeout', message: /gave no answer/ });
    expect(w.started).toEqual([{ terminated: true }]);
    // What the classifier does for every file: ensure the models (a fresh worker is configured), then embed.
    await client.ensureModels({} as never, { backbones: [], heads: [] });
    await expect(client.embed(embedRequest())).resolves.toMatchObject({ backboneMs: 1 });
    expect(w.configured).toEqual([0, 1]);
    expect(w.started[1]!.terminated).toBe(false);
    client.dispose();
  });

  it('a stuck head run fails every call in flight, not only its own', async () => {
    const w = inferWorkers(() => never);
    const client = createInferClient(config, { limits: { inferStallMs: 100 }, createWorker: w.createWorker });
    const calls = [client.embed(embedRequest()), client.runHead({ headId: 'h', features: new Float32Array(4), n: 1, t: 1 })];
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok'))).toEqual(['timeout', 'timeout']);
    client.dispose();
  });

  it('queued calls that each answer in time are never stopped, and the limit scales with frames x views', async () => {
    const w = inferWorkers(() => {
      let queue = Promise.resolve();
      // The real worker runs its session calls one at a time: each waits for the one before it.
      return (r) => {
        const run = queue.then(() => sleep(70 * r.views.length));
        queue = run;
        return run.then(() => ({ features: [], backboneMs: 1, preprocessMs: 0 }));
      };
    });
    const client = createInferClient(config, { limits: { inferStallMs: 100 }, createWorker: w.createWorker });
    // Four queued 70 ms calls (280 ms in all), then one call of 3 views (210 ms, under 3 x 100 ms).
    await Promise.all([1, 2, 3, 4].map(() => client.embed(embedRequest())));
    await client.embed(embedRequest(3));
    expect(w.started).toEqual([{ terminated: false }]);
    expect(client.backboneFrames).toBe(7);
    client.dispose();
  });
});
