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
 * With shards, parameters, AdamW moments, the training clips and each shard's gradients live in
 * SharedArrayBuffers. After the shards, the threads also share the update: each sums the shards'
 * gradients, squares them and applies AdamW over its own range of fixed blocks of the flattened
 * parameters; the global norm for clipping is the sum of the blocks' sums of squares in block
 * order. Blocks, not threads, fix every float operation, so the update too is the same on any
 * number of threads.
 */
import { Worker } from 'node:worker_threads';
import type { HeadConfig } from '../head/params.ts';
import { tf } from './backend.ts';
import type { TrainConfig } from './config.ts';
import { batchTensor, jitteredBatchTensor, type ClipSet } from './data.ts';
import { focalLoss } from './loss.ts';
import { headForward } from './model.ts';
import { featureDropout, mixClips, mixupPairs } from './ops.ts';
import {
  adamWConstants,
  adamWRange,
  adamWStep,
  clipByGlobalNorm,
  decaysParam,
  globalNorm,
  type AdamWConstants,
  type AdamWState,
} from './optim.ts';
import { Rng } from './rng.ts';
import { pooledHeadTensors, standardizeTensor, type InputStats } from './standardize.ts';

/** Everything a shard's forward and backward pass reads. */
export interface StepContext {
  head: HeadConfig;
  names: string[];
  shapes: number[][];
  /** The parameters, updated in place by every step. */
  params: Float32Array[];
  set: ClipSet;
  c: TrainConfig;
  /** Training-split statistics when c.standardize or c.poolStandardize (standardize.ts). */
  stats?: InputStats | null;
  /** With c.anchor: the head's weights are anchor + params (anchor.ts), in params' order. */
  anchor?: Float32Array[] | null;
}

/** Divisors of the two losses: the labelled rows of the whole batch (a shard divides by these). */
export interface LossDenominators {
  main: number;
  sub: number;
}

type NormTensors =
  | {
      mean: tf.Tensor1D;
      scale: tf.Tensor1D;
      /** poolStandardize: the pooled scale as a column [2D, 1] and mean * scale as a row [1, 2D]. */
      pooled?: { scale: tf.Tensor2D; shift: tf.Tensor2D };
    }
  | undefined;

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
  const { head, names, shapes, params, set, c, anchor } = ctx;
  const labels = idx.map((i) => set.labels[i]!);
  const subLabels = idx.map((i) => set.subLabels[i]!);
  const inputs = params.map((p, i) => tf.tensor(p, shapes[i]));
  const raw =
    c.trainFrames !== undefined && c.trainFrames < set.frames
      ? jitteredBatchTensor(set, idx, c.trainFrames, () => rng.next())
      : batchTensor(set, idx);
  // Mixup draws come after the frame jitter and before the dropout masks; none at mixup 0.
  const mix = c.mixup > 0 ? mixupPairs(idx.length, c.mixup, rng) : null;
  const x = tf.tidy(() => {
    const std = (norm ? standardizeTensor(raw, norm) : raw) as tf.Tensor3D;
    return featureDropout(mix ? mixClips(std, mix) : std, c.inputDropout, rng);
  });
  if (x !== raw) raw.dispose();
  /** The loss against the clips' own labels or, with mixup, each clip's share of both partners' labels. */
  const mixedLoss = (logits: tf.Tensor, y: number[], denominator: number | undefined): tf.Tensor => {
    if (!mix) return focalLoss(logits, y, c.focalGamma, c.labelSmoothing, denominator);
    const other = mix.partner.map((j) => y[j]!);
    const rest = mix.lambda.map((l) => 1 - l);
    return tf.add(
      focalLoss(logits, y, c.focalGamma, c.labelSmoothing, denominator, mix.lambda),
      focalLoss(logits, other, c.focalGamma, c.labelSmoothing, denominator, rest),
    );
  };
  const out = tf.tidy(() => {
    const f = (...ts: tf.Tensor[]) => {
      const own = new Map(names.map((n, i) => [n, anchor ? tf.add(ts[i]!, tf.tensor(anchor[i]!, shapes[i])) : ts[i]!]));
      const o = headForward(head, norm?.pooled ? pooledHeadTensors(own, norm.pooled) : own, x, rng);
      let loss: tf.Tensor = mixedLoss(o.logits, labels, den?.main);
      // Added even at weight 0: every parameter must lie on the path to the loss (its gradient is then 0).
      if (o.subLogits) loss = tf.add(loss, tf.mul(mixedLoss(o.subLogits, subLabels, den?.sub), c.subclassWeight));
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
  adamWStep(ctx.params, grads, adam, lr, { beta1: c.beta1, beta2: c.beta2, eps: c.adamEps, weightDecay: c.weightDecay, l2: c.l2 }, decay);
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

/** Elements per block of the flattened parameters: the unit of the shared update and of the norm's sums. */
export const BLOCK = 1 << 16;

/** The flattened training state the threads share when shards > 1. */
export interface FlatState {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** One gradient buffer per shard; the sum ends up in grads[0]. */
  grads: Float32Array[];
  /** Sum of squares of each block's summed gradient. */
  partials: Float64Array;
  /** Start of each parameter in the flat arrays, and the total at the end. */
  offsets: number[];
  decay: boolean[];
}

export interface FlatBuffers {
  params: SharedArrayBuffer;
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  grads: SharedArrayBuffer[];
  partials: SharedArrayBuffer;
  offsets: number[];
  decay: boolean[];
}

export function flatState(b: FlatBuffers): FlatState {
  return {
    params: new Float32Array(b.params),
    m: new Float32Array(b.m),
    v: new Float32Array(b.v),
    grads: b.grads.map((g) => new Float32Array(g)),
    partials: new Float64Array(b.partials),
    offsets: b.offsets,
    decay: b.decay,
  };
}

export const blockCount = (f: Pick<FlatState, 'params'>) => Math.ceil(f.params.length / BLOCK);

/** Blocks [b0, b1): adds shards 1..count-1's gradients into shard 0's, and writes each block's sum of squares. */
export function reduceBlocks(f: FlatState, count: number, b0: number, b1: number): void {
  const n = f.params.length;
  const g0 = f.grads[0]!;
  for (let b = b0; b < b1; b++) {
    const lo = b * BLOCK;
    const hi = Math.min(n, lo + BLOCK);
    for (let k = 1; k < count; k++) {
      const g = f.grads[k]!;
      for (let i = lo; i < hi; i++) g0[i]! += g[i]!;
    }
    let s = 0;
    for (let i = lo; i < hi; i++) s += g0[i]! * g0[i]!;
    f.partials[b] = s;
  }
}

/** Blocks [b0, b1): scales the summed gradient (clipping; 1 = none) and applies AdamW, parameter by parameter. */
export function updateBlocks(f: FlatState, scale: number, k: AdamWConstants, b0: number, b1: number): void {
  const lo = b0 * BLOCK;
  const hi = Math.min(f.params.length, b1 * BLOCK);
  const g = f.grads[0]!;
  if (scale < 1) for (let i = lo; i < hi; i++) g[i]! *= scale;
  for (let q = 0; q < f.decay.length; q++) {
    const from = Math.max(lo, f.offsets[q]!);
    const to = Math.min(hi, f.offsets[q + 1]!);
    if (from < to) adamWRange(f.params, g, f.m, f.v, from, to, k, f.decay[q]!);
  }
}

/** What a gradient worker gets at start (worker data). */
export interface GradWorkerInit {
  head: HeadConfig;
  names: string[];
  shapes: number[][];
  c: TrainConfig;
  stats: InputStats | null;
  anchor: Float32Array[] | null;
  flat: FlatBuffers;
  clips: SharedArrayBuffer;
  frames: number;
  dim: number;
  labels: Int32Array;
  subLabels: Int32Array;
}

/** One request to a worker: its shards of this step, its blocks' reduction, or its blocks' update. */
export type GradRequest =
  | { id: number; kind: 'grads'; jobs: Array<{ k: number; idx: number[]; seed: number }>; den: LossDenominators }
  | { id: number; kind: 'reduce'; count: number; b0: number; b1: number }
  | { id: number; kind: 'update'; scale: number; k: AdamWConstants; b0: number; b1: number };

export type GradReply = { id: number; losses?: number[] } | { id: number; error: string };

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
  if (!stats) return undefined;
  const p = stats.pooled;
  const pooled = p && {
    scale: tf.tensor2d(p.scale, [p.scale.length, 1]),
    shift: tf.tensor2d(
      Float32Array.from(p.mean, (m, i) => m * p.scale[i]!),
      [1, p.mean.length],
    ),
  };
  return { mean: tf.tensor1d(stats.mean), scale: tf.tensor1d(stats.scale), ...(pooled ? { pooled } : {}) };
}

/** Every tensor of `norm`, to dispose. */
export function normTensorList(norm: NormTensors): tf.Tensor[] {
  return norm ? [norm.mean, norm.scale, ...(norm.pooled ? [norm.pooled.scale, norm.pooled.shift] : [])] : [];
}

/** The worker side of a request (grad-worker.ts), also what the main thread does for its own part. */
export function serveRequest(ctx: StepContext, norm: NormTensors, f: FlatState, req: GradRequest): number[] | undefined {
  if (req.kind === 'grads')
    return req.jobs.map((job) => {
      const r = batchGradients(ctx, norm, job.idx, new Rng(job.seed), req.den);
      r.grads.forEach((g, p) => f.grads[job.k]!.set(g, f.offsets[p]!));
      return r.loss;
    });
  if (req.kind === 'reduce') reduceBlocks(f, req.count, req.b0, req.b1);
  else updateBlocks(f, req.scale, req.k, req.b0, req.b1);
  return undefined;
}

/** Runs training steps for one head; `close()` when done (it stops the workers). */
export class StepRunner {
  private nextId = 0;
  private pending = new Map<number, { resolve: (losses: number[] | undefined) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly ctx: StepContext,
    private readonly norm: NormTensors,
    private readonly flat: FlatState | null,
    private readonly workers: Worker[],
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
   * c.shards would idle). With shards > 1, ctx.params, adam.m, adam.v and ctx.set.half move into
   * shared memory: their elements are replaced by views, which the caller keeps using.
   */
  static async start(ctx: StepContext, adam: AdamWState, threads: number): Promise<StepRunner> {
    const shards = ctx.c.shards;
    if (shards === 1) return new StepRunner(ctx, normTensors(ctx.stats), null, []);
    const sizes = ctx.params.map((p) => p.length);
    const offsets = [0];
    for (const n of sizes) offsets.push(offsets.at(-1)! + n);
    const total = offsets.at(-1)!;
    const flat: FlatBuffers = {
      params: shareFloat32(ctx.params),
      m: shareFloat32(adam.m),
      v: shareFloat32(adam.v),
      grads: Array.from({ length: shards }, () => new SharedArrayBuffer(total * 4)),
      partials: new SharedArrayBuffer(Math.ceil(total / BLOCK) * 8),
      offsets,
      decay: ctx.names.map(decaysParam),
    };
    const extra = Math.max(0, Math.min(shards, Math.floor(threads)) - 1);
    if (extra === 0) return new StepRunner(ctx, normTensors(ctx.stats), flatState(flat), []);
    const init: GradWorkerInit = {
      head: ctx.head,
      names: ctx.names,
      shapes: ctx.shapes,
      c: ctx.c,
      stats: ctx.stats ?? null,
      anchor: ctx.anchor ?? null,
      flat,
      clips: shareClips(ctx.set),
      frames: ctx.set.frames,
      dim: ctx.set.dim,
      labels: ctx.set.labels,
      subLabels: ctx.set.subLabels,
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
    return new StepRunner(ctx, normTensors(ctx.stats), flatState(flat), workers);
  }

  /** Threads computing shards, the main thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Sends worker j its request (built with a fresh id); resolves with its losses, if any. */
  private call(j: number, req: GradRequest): Promise<number[] | undefined> {
    const done = new Promise<number[] | undefined>((resolve, reject) => this.pending.set(req.id, { resolve, reject }));
    this.workers[j]!.postMessage(req);
    return done;
  }

  /**
   * Runs a phase on every thread: worker j gets request(j + 1), this thread serves request(0) itself
   * meanwhile. Waits for all, then throws the first failure.
   */
  private async phase(request: (thread: number) => GradRequest | null): Promise<Array<number[] | undefined>> {
    const sent = this.workers.map((_, j) => {
      const req = request(j + 1);
      return req ? this.call(j, req) : Promise.resolve(undefined);
    });
    let own: number[] | undefined;
    let ownError: unknown = null;
    try {
      const req = request(0);
      if (req) own = serveRequest(this.ctx, this.norm, this.flat!, req);
    } catch (e) {
      ownError = e;
    }
    const replies = await Promise.allSettled(sent);
    if (ownError) throw ownError;
    return [
      own,
      ...replies.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      }),
    ];
  }

  /**
   * One optimisation step in place (forward, backward, clip, AdamW) on the clips at `idx`; returns
   * the batch loss, or null when the loss or the gradient is not finite (nothing updated then).
   */
  async step(idx: number[], rng: Rng, lr: number, adam: AdamWState): Promise<number | null> {
    if (this.failure) throw this.failure;
    const ctx = this.ctx;
    if (!this.flat) {
      const { loss, grads } = batchGradients(ctx, this.norm, idx, rng);
      return applyUpdate(ctx, grads, loss, adam, ctx.names.map(decaysParam), lr);
    }
    const parts = shardsOf(idx, ctx.c.shards);
    const stream = new Rng(Math.floor(rng.next() * 4294967296));
    const seeds = parts.map(() => Math.floor(stream.next() * 4294967296));
    const den: LossDenominators = {
      main: labelledCount(idx.map((i) => ctx.set.labels[i]!)),
      sub: labelledCount(idx.map((i) => ctx.set.subLabels[i]!)),
    };
    const T = this.threads;
    // Shard k goes to thread k mod T; thread 0 is this one.
    const jobs = (t: number) => parts.flatMap((p, k) => (k % T === t ? [{ k, idx: p, seed: seeds[k]! }] : []));
    const replies = await this.phase((t) => {
      const mine = jobs(t);
      return mine.length ? { id: this.nextId++, kind: 'grads', jobs: mine, den } : null;
    });
    const losses = new Array<number>(parts.length);
    replies.forEach((r, t) => jobs(t).forEach((job, i) => (losses[job.k] = r![i]!)));
    // The blocks split evenly over the threads (which thread takes which does not change a bit).
    const nb = blockCount(this.flat);
    const range = (t: number) => ({ b0: Math.floor((t * nb) / T), b1: Math.floor(((t + 1) * nb) / T) });
    await this.phase((t) => ({ id: this.nextId++, kind: 'reduce', count: parts.length, ...range(t) }));
    let loss = 0;
    for (const l of losses) loss += l;
    let sumsq = 0;
    for (let b = 0; b < nb; b++) sumsq += this.flat.partials[b]!;
    const gradNorm = Math.sqrt(sumsq);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return null;
    const c = ctx.c;
    const scale = c.clipNorm / (gradNorm + 1e-6);
    adam.step++;
    const k = adamWConstants(adam.step, lr, { beta1: c.beta1, beta2: c.beta2, eps: c.adamEps, weightDecay: c.weightDecay, l2: c.l2 });
    await this.phase((t) => ({ id: this.nextId++, kind: 'update', scale, k, ...range(t) }));
    return loss;
  }

  /** Stops the workers and frees the runner's tensors. */
  async close(): Promise<void> {
    tf.dispose(normTensorList(this.norm));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
