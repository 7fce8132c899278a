/**
 * The parity check that every export runs: the ONNX head in onnxruntime-node and in onnxruntime-web
 * (WASM, as the site runs it), the plain-TypeScript reference forward of params.ts, and the tfjs
 * model the trainer uses, all on the same random features, for several N and T (T is dynamic).
 */
import * as ortNode from 'onnxruntime-node';
import { VidkindError } from '../../../src/core/errors.ts';
import type { HeadConfig, HeadWeights } from '../head/params.ts';
import { referenceForward, type HeadForwardOutput } from '../head/reference-forward.ts';
import { HEAD_IO } from './head-onnx.ts';

/**
 * The bound: every output of every runtime within this of the reference; for an output
 * larger than 1 in magnitude, within this share of it. A linear stats head on thousands of raw
 * features gives logits of tens on the check's inputs, where float32 sums differ by a few 1e-6 of
 * the value between runtimes; a wrong export (gate order, swapped rows) is off by whole units.
 */
export const PARITY_TOLERANCE = 1e-4;

export interface ParityReport {
  tolerance: number;
  cases: Array<{ n: number; t: number }>;
  /**
   * Max difference of each runtime from the reference, over logits, sub_logits and attention:
   * absolute, divided by the reference's magnitude where that is above 1.
   */
  maxAbsDiff: { onnxruntimeNode: number; onnxruntimeWeb: number; tfjs: number | null };
  passed: boolean;
}

type Runner = (x: Float32Array, n: number, t: number) => Promise<HeadForwardOutput>;

function inputs(c: HeadConfig, n: number, t: number, seed: number): Float32Array {
  // Backbone features are non-negative after ReLU and mostly small; a few large values test LayerNorm.
  let a = seed >>> 0;
  return Float32Array.from({ length: n * t * c.featureDim }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const u = a / 4294967296;
    return u < 0.02 ? u * 400 : u * 2;
  });
}

/** `a` is the reference. */
function maxDiff(a: HeadForwardOutput, b: HeadForwardOutput): number {
  let m = 0;
  const cmp = (x: Float32Array | null, y: Float32Array | null) => {
    if (!x || !y) {
      if (x !== y) m = Infinity;
      return;
    }
    if (x.length !== y.length) m = Infinity;
    else
      for (let i = 0; i < x.length; i++)
        m = Math.max(m, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(x[i]!)) || (Number.isNaN(x[i]! - y[i]!) ? Infinity : 0));
  };
  cmp(a.logits, b.logits);
  cmp(a.subLogits, b.subLogits);
  cmp(a.attention, b.attention);
  return m;
}

type OrtLike = Pick<typeof ortNode, 'InferenceSession' | 'Tensor'>;

async function ortRunner(
  ort: OrtLike,
  bytes: Uint8Array,
  c: HeadConfig,
  ep: string,
): Promise<{ run: Runner; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
  return {
    run: async (x, n, t) => {
      const out = await session.run({ [HEAD_IO.input]: new ort.Tensor('float32', x, [n, t, c.featureDim]) });
      return {
        logits: out[HEAD_IO.logits]!.data as Float32Array,
        subLogits: c.subclasses > 0 ? (out[HEAD_IO.subLogits]!.data as Float32Array) : null,
        attention: out[HEAD_IO.attention]!.data as Float32Array,
      };
    },
    release: () => session.release(),
  };
}

/** onnxruntime-web's WASM backend, single-threaded (as on a host without cross-origin isolation). */
async function webRunner(bytes: Uint8Array, c: HeadConfig) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return ortRunner(ort as unknown as OrtLike, bytes, c, 'wasm');
}

/** The trainer's tfjs forward pass (wasm backend), or null when node-trainer/src/train is unavailable. */
async function tfjsRunner(c: HeadConfig, w: HeadWeights): Promise<{ run: Runner; release: () => Promise<void> } | null> {
  let mods;
  try {
    mods = await Promise.all([import('../train/backend.ts'), import('../train/predict.ts'), import('../train/model.ts')]);
  } catch {
    return null;
  }
  const [{ initBackend, tf }, { weightTensors }, { headForward }] = mods;
  await initBackend();
  const p = weightTensors(c, w);
  return {
    run: async (x, n, t) => {
      // tidy frees headForward's intermediates; the three outputs are read and then disposed.
      const [logits, attention, sub] = tf.tidy(() => {
        const o = headForward(c, p, tf.tensor3d(x, [n, t, c.featureDim]));
        return o.subLogits ? [o.logits, o.attention, o.subLogits] : [o.logits, o.attention];
      });
      const out = {
        logits: logits!.dataSync() as Float32Array,
        subLogits: sub ? (sub.dataSync() as Float32Array) : null,
        attention: attention!.dataSync() as Float32Array,
      };
      tf.dispose([logits!, attention!, ...(sub ? [sub] : [])]);
      return out;
    },
    release: async () => p.forEach((t) => t.dispose()),
  };
}

/** Runs the check; `frames` is the head's training T (checked along with other T). */
export async function checkHeadParity(
  c: HeadConfig,
  w: HeadWeights,
  onnxBytes: Uint8Array,
  frames: number,
  opts: { tfjs?: boolean; seed?: number } = {},
): Promise<ParityReport> {
  const cases = [
    { n: 2, t: frames },
    { n: 1, t: Math.max(1, Math.round(frames / 4)) },
    { n: 3, t: 1 },
  ];
  const node = await ortRunner(ortNode, onnxBytes, c, 'cpu');
  const web = await webRunner(onnxBytes, c);
  const tfjs = opts.tfjs === false ? null : await tfjsRunner(c, w);
  const d = { onnxruntimeNode: 0, onnxruntimeWeb: 0, tfjs: tfjs ? 0 : null } as ParityReport['maxAbsDiff'];
  try {
    for (const [i, { n, t }] of cases.entries()) {
      const x = inputs(c, n, t, (opts.seed ?? 1) + i);
      const ref = referenceForward(c, w, x, n, t);
      d.onnxruntimeNode = Math.max(d.onnxruntimeNode, maxDiff(ref, await node.run(x, n, t)));
      d.onnxruntimeWeb = Math.max(d.onnxruntimeWeb, maxDiff(ref, await web.run(x, n, t)));
      if (tfjs) d.tfjs = Math.max(d.tfjs!, maxDiff(ref, await tfjs.run(x, n, t)));
    }
  } finally {
    await Promise.all([node.release(), web.release(), tfjs?.release()]);
  }
  const passed = Math.max(d.onnxruntimeNode, d.onnxruntimeWeb, d.tfjs ?? 0) <= PARITY_TOLERANCE;
  return { tolerance: PARITY_TOLERANCE, cases, maxAbsDiff: d, passed };
}

/** Throws `inference-failed` naming the runtime that disagrees. */
export function assertParity(r: ParityReport): void {
  if (r.passed) return;
  const bad = Object.entries(r.maxAbsDiff)
    .filter(([, v]) => v !== null && v > r.tolerance)
    .map(([k, v]) => `${k} ${v!.toExponential(2)}`);
  throw new VidkindError(
    'inference-failed',
    `Export parity check failed (max difference above ${r.tolerance}, relative where an output exceeds 1): ${bad.join(', ')}.`,
  );
}
