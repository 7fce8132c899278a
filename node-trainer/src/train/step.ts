/**
 * Training steps, on one thread or data-parallel over several.
 *
 * tfjs-wasm runs one thread per isolate in Node, so a second core can only help one head through a
 * second isolate: a worker thread. With `shards` S > 1, every batch is cut into S contiguous shards;
 * each shard's loss and gradients are computed on its own (by the main thread or a worker), and the
 * shards' gradients are summed in shard order. Each shard divides by the whole batch's label counts,
 * so the sum is the whole batch's loss and gradient; each shard draws its dropout masks and frame
 * jitter from its own random stream, seeded from one draw of the run's stream per step. The result
 * therefore depends on `shards` and the seed, never on how many threads computed the shards (a test
 * checks that bit for bit). shards 1 is the original single-thread step, unchanged.
 *
 * Parameters and the training clips live in SharedArrayBuffers that the workers read; each shard's
 * gradients come back through a SharedArrayBuffer of its own. The optimiser runs on the main thread.
 */
import { Worker } from 'node:worker_threads';
import type { HeadConfig } from '../head/params.ts';
import { tf } from './backend.ts';
import type { TrainConfig } from './config.ts';
import { batchTensor, jitteredBatchTensor, type ClipSet } from './data.ts';
import { focalLoss } from './loss.ts';
import { headForward } from './model.ts';
import { featureDropout } from './ops.ts';
import { adamWStep, clipByGlobalNorm, globalNorm, type AdamWState } from './optim.ts';
import { Rng } from './rng.ts';
import { standardizeTensor } from './standardize.ts';

/** Everything a shard's forward and backward pass reads. */
export interface StepContext {
  head: HeadConfig;
  names: string[];
  shapes: number[][];
  /** The parameters, updated in place by every step. */
  params: Float32Array[];
  set: ClipSet;
  c: TrainConfig;
  /** Training-split statistics when c.standardize (standardize.ts). */
  stats?: { mean: Float32Array; scale: Float32Array } | null;
}

/** Divisors of the two losses: the labelled rows of the whole batch (a shard divides by these). */
export interface LossDenominators {
  main: number;
  sub: number;
}

type NormTensors = { mean: tf.Tensor1D; scale: tf.Tensor1D } | undefined;

function labelledCount(labels: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0) n++;
  return n;
}

/**
 * Loss and gradients of the clips at `idx` (a batch, or one shard of it), with dropout and frame
 * jitter drawn from `rng`; no parameter changes. Without `den`, the losses are means over these clips.
 */
export function batchGradients(
  ctx: StepContext,
  norm: NormTensors,
  idx: number[],
  rng: Rng,
  den?: LossDenominators,
): { loss: number; grads: Float32Array[] } {
  const { head, names, shapes, params, set, c } = ctx;
  const labels = idx.map((i) => set.labels[i]!);
  const subLabels = idx.map((i) => set.subLabels[i]!);
  const inputs = params.map((p, i) => tf.tensor(p, shapes[i]));
  const raw =
    c.trainFrames !== undefined && c.trainFrames < set.frames
      ? jitteredBatchTensor(set, idx, c.trainFrames, () => rng.next())
      : batchTensor(set, idx);
  const x = tf.tidy(() => featureDropout((norm ? standardizeTensor(raw, norm) : raw) as tf.Tensor3D, c.inputDropout, rng));
  if (x !== raw) raw.dispose();
  const out = tf.tidy(() => {
    const f = (...ts: tf.Tensor[]) => {
      const o = headForward(head, new Map(names.map((n, i) => [n, ts[i]!])), x, rng);
      let loss: tf.Tensor = focalLoss(o.logits, labels, c.focalGamma, c.labelSmoothing, den?.main);
      // Added even at weight 0: every parameter must lie on the path to the loss (its gradient is then 0).
      if (o.subLogits)
        loss = tf.add(loss, tf.mul(focalLoss(o.subLogits, subLabels, c.focalGamma, c.labelSmoothing, den?.sub), c.subclassWeight));
      return loss as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)(inputs);
    return [value, ...grads];
  });
  const loss = out[0]!.dataSync()[0]!;
  const grads = out.slice(1).map((g) => g.dataSync() as Float32Array);
  tf.dispose([...out, ...inputs, x]);
  return { loss, grads };
}

/**
 * Clips and applies summed gradients in place; returns the loss, or null when the loss or the
 * gradient is not finite (then nothing is updated: an overflowed gradient would turn into NaN
 * weights through the clipping, inf x 0).
 */
function applyUpdate(ctx: StepContext, grads: Float32Array[], loss: number, adam: AdamWState, decay: boolean[], lr: number): number | null {
  const c = ctx.c;
  const gradNorm = globalNorm(grads);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return null;
  clipByGlobalNorm(grads, c.clipNorm, gradNorm);
  adamWStep(ctx.params, grads, adam, lr, { beta1: c.beta1, beta2: c.beta2, eps: c.adamEps, weightDecay: c.weightDecay }, decay);
  return loss;
}

/** Cuts `idx` into `n` contiguous shards whose sizes differ by at most one (empty ones dropped). */
export function shardsOf(idx: number[], n: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const part = idx.slice(Math.floor((k * idx.length) / n), Math.floor(((k + 1) * idx.length) / n));
    if (part.length > 0) out.push(part);
  }
  return out;
}

/** What a gradient worker gets at start (worker data). */
export interface GradWorkerInit {
  head: HeadConfig;
  names: string[];
  shapes: number[][];
  c: TrainConfig;
  stats: { mean: Float32Array; scale: Float32Array } | null;
  params: SharedArrayBuffer;
  clips: SharedArrayBuffer;
  frames: number;
  dim: number;
  labels: Int32Array;
  subLabels: Int32Array;
  /** One gradient buffer per shard (all parameters, flattened in `names` order). */
  grads: SharedArrayBuffer[];
}

/** One request to a worker: the shards it computes this step. */
export interface GradRequest {
  id: number;
  jobs: Array<{ k: number; idx: number[]; seed: number }>;
  den: LossDenominators;
}

export type GradReply = { id: number; losses: number[] } | { id: number; error: string };

/** Views of a flat buffer cut into arrays of the given sizes. */
export function viewsOf(buf: SharedArrayBuffer | ArrayBuffer, sizes: number[]): Float32Array[] {
  let off = 0;
  return sizes.map((n) => {
    const v = new Float32Array(buf, off * 4, n);
    off += n;
    return v;
  });
}

/** Moves arrays into one SharedArrayBuffer; the array elements are replaced by views of it. */
function shareFloat32(arrays: Float32Array[]): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(arrays.reduce((s, a) => s + a.length, 0) * 4);
  viewsOf(
    sab,
    arrays.map((a) => a.length),
  ).forEach((v, i) => {
    v.set(arrays[i]!);
    arrays[i] = v;
  });
  return sab;
}

/** Moves a clip set's features into one SharedArrayBuffer (set.half's elements become views of it). */
function shareClips(set: ClipSet): SharedArrayBuffer {
  const per = set.frames * set.dim;
  const sab = new SharedArrayBuffer(set.half.length * per * 2);
  set.half.forEach((h, i) => {
    const v = new Uint16Array(sab, i * per * 2, per);
    v.set(h);
    set.half[i] = v;
  });
  return sab;
}

/** The clip set a worker sees: views of the shared features. */
export function clipSetView(init: Pick<GradWorkerInit, 'clips' | 'frames' | 'dim' | 'labels' | 'subLabels'>): ClipSet {
  const per = init.frames * init.dim;
  const n = init.labels.length;
  return {
    frames: init.frames,
    dim: init.dim,
    keys: [],
    sources: [],
    labels: init.labels,
    subLabels: init.subLabels,
    half: Array.from({ length: n }, (_, i) => new Uint16Array(init.clips, i * per * 2, per)),
  };
}

export function normTensors(stats: StepContext['stats']): NormTensors {
  return stats ? { mean: tf.tensor1d(stats.mean), scale: tf.tensor1d(stats.scale) } : undefined;
}

/** Runs training steps for one head; `close()` when done (it stops the workers). */
export class StepRunner {
  private nextId = 0;
  private pending = new Map<number, { resolve: (losses: number[]) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly ctx: StepContext,
    private readonly norm: NormTensors,
    private readonly workers: Worker[],
    private readonly gradViews: Float32Array[][],
  ) {
    workers.forEach((w, j) => {
      w.on('message', (m: GradReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ('error' in m) p.reject(new Error(`gradient worker ${j + 1}: ${m.error}`));
        else p.resolve(m.losses);
      });
      const fail = (e: Error) => {
        this.failure ??= e;
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0) fail(new Error(`gradient worker ${j + 1} exited with code ${code}`));
      });
    });
  }

  /**
   * Starts the runner with up to `threads` threads in all (the main thread included; more than
   * c.shards would idle). With more than one, ctx.params and ctx.set.half move into shared memory:
   * their elements are replaced by views, which the caller keeps using.
   */
  static async start(ctx: StepContext, threads: number): Promise<StepRunner> {
    const shards = ctx.c.shards;
    const extra = Math.max(0, Math.min(shards, Math.floor(threads)) - 1);
    if (extra === 0) return new StepRunner(ctx, normTensors(ctx.stats), [], []);
    const sizes = ctx.params.map((p) => p.length);
    const total = sizes.reduce((a, b) => a + b, 0);
    const params = shareFloat32(ctx.params);
    const clips = shareClips(ctx.set);
    const grads = Array.from({ length: shards }, () => new SharedArrayBuffer(total * 4));
    const init: GradWorkerInit = {
      head: ctx.head,
      names: ctx.names,
      shapes: ctx.shapes,
      c: ctx.c,
      stats: ctx.stats ?? null,
      params,
      clips,
      frames: ctx.set.frames,
      dim: ctx.set.dim,
      labels: ctx.set.labels,
      subLabels: ctx.set.subLabels,
      grads,
    };
    const workers = Array.from({ length: extra }, () => new Worker(new URL('./grad-worker.mjs', import.meta.url), { workerData: init }));
    // Wait for each worker's backend: a worker that cannot start fails here, not mid-epoch.
    await Promise.all(
      workers.map(
        (w, j) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: unknown) => {
              if (m === 'ready') {
                w.off('message', onMessage);
                resolve();
              } else if (typeof m === 'object' && m !== null && 'error' in m)
                reject(new Error(`gradient worker ${j + 1}: ${String(m.error)}`));
            };
            w.on('message', onMessage);
            w.once('error', reject);
          }),
      ),
    ).catch(async (e: unknown) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    });
    return new StepRunner(
      ctx,
      normTensors(ctx.stats),
      workers,
      grads.map((g) => viewsOf(g, sizes)),
    );
  }

  /** Threads computing shards, the main thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * One optimisation step in place (forward, backward, clip, AdamW) on the clips at `idx`; returns
   * the batch loss, or null when the loss or the gradient is not finite (nothing updated then).
   */
  async step(idx: number[], rng: Rng, lr: number, adam: AdamWState, decay: boolean[]): Promise<number | null> {
    if (this.failure) throw this.failure;
    const ctx = this.ctx;
    if (ctx.c.shards === 1) {
      const { loss, grads } = batchGradients(ctx, this.norm, idx, rng);
      return applyUpdate(ctx, grads, loss, adam, decay, lr);
    }
    const parts = shardsOf(idx, ctx.c.shards);
    const stream = new Rng(Math.floor(rng.next() * 4294967296));
    const seeds = parts.map(() => Math.floor(stream.next() * 4294967296));
    const den: LossDenominators = {
      main: labelledCount(idx.map((i) => ctx.set.labels[i]!)),
      sub: labelledCount(idx.map((i) => ctx.set.subLabels[i]!)),
    };
    // Shard k goes to thread k mod threads; thread 0 is this one.
    const T = this.threads;
    const requests = this.workers.map((w, j) => {
      const jobs = parts.flatMap((p, k) => (k % T === j + 1 ? [{ k, idx: p, seed: seeds[k]! }] : []));
      if (jobs.length === 0) return Promise.resolve({ jobs, losses: [] as number[] });
      const id = this.nextId++;
      const done = new Promise<number[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      w.postMessage({ id, jobs, den } satisfies GradRequest);
      return done.then((losses) => ({ jobs, losses }));
    });
    const losses = new Array<number>(parts.length);
    const shardGrads = new Array<Float32Array[]>(parts.length);
    let mainError: unknown = null;
    try {
      for (let k = 0; k < parts.length; k += T) {
        const r = batchGradients(ctx, this.norm, parts[k]!, new Rng(seeds[k]!), den);
        losses[k] = r.loss;
        shardGrads[k] = r.grads;
      }
    } catch (e) {
      mainError = e;
    }
    const replies = await Promise.allSettled(requests);
    if (mainError) throw mainError;
    for (const r of replies) {
      if (r.status === 'rejected') throw r.reason;
      r.value.jobs.forEach((job, i) => {
        losses[job.k] = r.value.losses[i]!;
        shardGrads[job.k] = this.gradViews[job.k]!;
      });
    }
    // Sum in shard order, into shard 0's arrays (the same float result whichever thread computed
    // each shard; a worker's buffer is not written again before the next step).
    const grads = shardGrads[0]!;
    let loss = losses[0]!;
    for (let k = 1; k < parts.length; k++) {
      loss += losses[k]!;
      shardGrads[k]!.forEach((g, p) => {
        const acc = grads[p]!;
        for (let i = 0; i < acc.length; i++) acc[i]! += g[i]!;
      });
    }
    return applyUpdate(ctx, grads, loss, adam, decay, lr);
  }

  /** Stops the workers and frees the runner's tensors. */
  async close(): Promise<void> {
    if (this.norm) tf.dispose([this.norm.mean, this.norm.scale]);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
