/** Batched inference of a head on a clip set (no dropout, no gradients). */
import { headParamShapes, type HeadConfig, type HeadWeights } from '../head/params.ts';
import { tf } from './backend.ts';
import { batchTensor, type ClipSet } from './data.ts';
import { headForward, type HeadTensors } from './model.ts';

export interface Predictions {
  logits: Float32Array[];
  subLogits: Float32Array[] | null;
  attention: Float32Array[];
}

/** Uploads named weights as tensors (the caller disposes them). */
export function weightTensors(c: HeadConfig, w: HeadWeights): HeadTensors {
  return new Map(headParamShapes(c).map(({ name, shape }) => [name, tf.tensor(w.get(name)!, shape)]));
}

function rows(t: tf.Tensor): Float32Array[] {
  const [n, k] = t.shape as [number, number];
  const d = t.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => d.slice(i * k, (i + 1) * k));
}

/** Runs the head over every clip of `set`, `batch` clips at a time. */
export function predict(c: HeadConfig, p: HeadTensors, set: ClipSet, batch = 64): Predictions {
  const out: Predictions = { logits: [], subLogits: c.subclasses > 0 ? [] : null, attention: [] };
  for (let s = 0; s < set.keys.length; s += batch) {
    const idx = Array.from({ length: Math.min(batch, set.keys.length - s) }, (_, i) => s + i);
    tf.tidy(() => {
      const o = headForward(c, p, batchTensor(set, idx));
      out.logits.push(...rows(o.logits));
      if (o.subLogits) out.subLogits!.push(...rows(o.subLogits));
      out.attention.push(...rows(o.attention));
    });
  }
  return out;
}
