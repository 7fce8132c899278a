/**
 * Parity of an imported backbone against the source model's own runtime: TF.js for TF.js models,
 * the source's fp32 ONNX in onnxruntime-node for ONNX imports. Same preprocessed frames in, embeddings
 * compared by max absolute difference and mean cosine similarity.
 */
import * as ort from 'onnxruntime-node';
import type { TfjsModel } from './tfjs-source.ts';

export interface ParityStats {
  maxAbsDiff: number;
  meanCosine: number;
  minCosine: number;
}

/** Embedding comparison over N rows of D. */
export function compareEmbeddings(a: Float32Array, b: Float32Array, dim: number): ParityStats {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  const rows = a.length / dim;
  let maxAbsDiff = 0;
  let sum = 0;
  let minCosine = 1;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      const x = a[i]!;
      const y = b[i]!;
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x - y));
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    // Two all-zero embeddings are identical; one zero and one not are orthogonal.
    const cos = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    sum += cos;
    minCosine = Math.min(minCosine, cos);
  }
  return { maxAbsDiff, meanCosine: sum / rows, minCosine };
}

/** Runs an ONNX model (bytes) in onnxruntime-node on a batch; returns the named output. */
export async function runOnnx(
  model: Uint8Array,
  inputName: string,
  outputName: string,
  batch: Float32Array,
  dims: number[],
): Promise<Float32Array> {
  return (await runOnnxOutputs(model, inputName, [outputName], batch, dims))[0]!.data;
}

/** A float tensor read back from a runtime. */
export interface Values {
  data: Float32Array;
  dims: readonly number[];
}

/** Runs an ONNX model (bytes) in onnxruntime-node on a batch; returns the named outputs in order. */
export async function runOnnxOutputs(
  model: Uint8Array,
  inputName: string,
  outputNames: string[],
  batch: Float32Array,
  dims: number[],
): Promise<Values[]> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', batch, dims) }, outputNames);
    return outputNames.map((name) => ({ data: out[name]!.data as Float32Array, dims: out[name]!.dims }));
  } finally {
    await session.release();
  }
}

/**
 * Per-image spatial mean and population standard deviation (centred: sqrt(mean((x - mean)^2))) of each
 * channel of a feature map, `[N, C]` each: what `--taps` appends to the embedding. Written by hand
 * (no library pools NHWC/NCHW tensors for us); accumulates in float64.
 */
export function tapStatistics(x: Values, layout: 'NHWC' | 'NCHW'): { mean: Float32Array; std: Float32Array; channels: number } {
  if (x.dims.length !== 4) throw new Error(`a tap must be a 4-D feature map, got [${x.dims.join(', ')}]`);
  const [n, d1, d2, d3] = x.dims as [number, number, number, number];
  const [c, hw] = layout === 'NHWC' ? [d3, d1 * d2] : [d1, d2 * d3];
  // Element (image b, channel ch, position p): NHWC at (b * hw + p) * c + ch, NCHW at (b * c + ch) * hw + p.
  const [cStride, pStride] = layout === 'NHWC' ? [1, c] : [hw, 1];
  const mean = new Float32Array(n * c);
  const std = new Float32Array(n * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const base = b * c * hw + ch * cStride;
      let sum = 0;
      for (let p = 0; p < hw; p++) sum += x.data[base + p * pStride]!;
      const m = sum / hw;
      let sq = 0;
      for (let p = 0; p < hw; p++) {
        const d = x.data[base + p * pStride]! - m;
        sq += d * d;
      }
      mean[b * c + ch] = m;
      std[b * c + ch] = Math.sqrt(sq / hw);
    }
  return { mean, std, channels: c };
}

/** Columns [from, to) of `rows` rows. */
export function columns(x: Float32Array, rows: number, from: number, to: number): Float32Array {
  const width = x.length / rows;
  const out = new Float32Array(rows * (to - from));
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * width + from, r * width + to), r * (to - from));
  return out;
}

/** Row-wise concatenation of `rows` rows: each part holds `rows` rows of its own width. */
export function concatRows(rows: number, parts: Float32Array[]): Float32Array {
  const widths = parts.map((p) => p.length / rows);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let o = r * total;
    parts.forEach((p, i) => {
      out.set(p.subarray(r * widths[i]!, (r + 1) * widths[i]!), o);
      o += widths[i]!;
    });
  }
  return out;
}

/** The embedding followed, per tap, by its spatial mean and std: the `--taps` layout of `embedding`. */
export function appendTapStatistics(embedding: Float32Array, rows: number, taps: Values[], layout: 'NHWC' | 'NCHW'): Float32Array {
  if (!taps.length) return embedding;
  return concatRows(rows, [
    embedding,
    ...taps.flatMap((t) => {
      const s = tapStatistics(t, layout);
      return [s.mean, s.std];
    }),
  ]);
}

type Tf = typeof import('@tensorflow/tfjs');
let tfReady: Promise<Tf> | undefined;

/** TF.js with the WASM backend when it loads (much faster), else the pure-JS CPU backend. */
async function loadTf(): Promise<Tf> {
  tfReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend refused');
    } catch {
      await tf.setBackend('cpu');
    }
    await tf.ready();
    return tf;
  })();
  return tfReady;
}

/**
 * The TF.js model's own output at the embedding node, for NHWC frames; with `taps` (layer / node names),
 * followed per image by each tap's spatial mean and std, pooled here in JS over TF's NHWC maps.
 */
export async function runTfjs(
  model: TfjsModel,
  embeddingNode: string,
  batch: Float32Array,
  dims: number[],
  taps: string[] = [],
): Promise<Float32Array> {
  const tf = await loadTf();
  const artifacts = {
    modelTopology: model.topology as never,
    weightSpecs: model.weightSpecs as never,
    weightData: model.weightData.buffer.slice(
      model.weightData.byteOffset,
      model.weightData.byteOffset + model.weightData.byteLength,
    ) as ArrayBuffer,
  };
  type Tensor = import('@tensorflow/tfjs').Tensor;
  const x = tf.tensor(batch, dims);
  /** Reads the outputs [embedding, ...taps] back, frees them, and appends the taps' statistics. */
  const read = async (y: Tensor | Tensor[]): Promise<Float32Array> => {
    const ys = Array.isArray(y) ? y : [y];
    const values: Values[] = [];
    for (const t of ys) values.push({ data: new Float32Array((await t.data()) as Float32Array), dims: t.shape });
    for (const t of ys) t.dispose();
    return appendTapStatistics(values[0]!.data, dims[0]!, values.slice(1), 'NHWC');
  };
  const names = [embeddingNode, ...taps];
  try {
    if (model.format === 'layers') {
      const full = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const sub = tf.model({ inputs: full.inputs, outputs: names.map((name) => full.getLayer(name).output) as never });
      try {
        return await read(sub.predict(x) as Tensor | Tensor[]);
      } finally {
        full.dispose();
      }
    }
    const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    try {
      return await read(graph.execute(x, taps.length ? names : embeddingNode) as Tensor | Tensor[]);
    } finally {
      graph.dispose();
    }
  } finally {
    x.dispose();
  }
}
