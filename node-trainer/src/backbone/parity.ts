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
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', batch, dims) }, [outputName]);
    return out[outputName]!.data as Float32Array;
  } finally {
    await session.release();
  }
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

/** The TF.js model's own output at the embedding node, for NHWC frames. */
export async function runTfjs(model: TfjsModel, embeddingNode: string, batch: Float32Array, dims: number[]): Promise<Float32Array> {
  const tf = await loadTf();
  const artifacts = {
    modelTopology: model.topology as never,
    weightSpecs: model.weightSpecs as never,
    weightData: model.weightData.buffer.slice(
      model.weightData.byteOffset,
      model.weightData.byteOffset + model.weightData.byteLength,
    ) as ArrayBuffer,
  };
  const x = tf.tensor(batch, dims);
  try {
    if (model.format === 'layers') {
      const full = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const sub = tf.model({ inputs: full.inputs, outputs: full.getLayer(embeddingNode).output as never });
      const y = sub.predict(x) as import('@tensorflow/tfjs').Tensor;
      const data = (await y.data()) as Float32Array;
      y.dispose();
      full.dispose();
      return new Float32Array(data);
    }
    const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const y = graph.execute(x, embeddingNode) as import('@tensorflow/tfjs').Tensor;
    const data = (await y.data()) as Float32Array;
    y.dispose();
    graph.dispose();
    return new Float32Array(data);
  } finally {
    x.dispose();
  }
}
