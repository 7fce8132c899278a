/**
 * A trained head (params.ts weights) -> an ONNX graph computing exactly params.ts's forward pass:
 * input `features` [N, T, D] with dynamic N and T; outputs `logits` [N, C], `sub_logits` [N, S]
 * (when the head has subclasses) and `attention` [N, T]. Opset 17: LayerNormalization and the
 * LSTM op (bidirectional) run in onnxruntime-node and onnxruntime-web. A "stats" head needs only
 * reductions, element-wise ops and MatMul.
 */
import { LAYER_NORM_EPS, STATS_EPS, checkHeadWeights, type HeadConfig, type HeadWeights } from '../head/params.ts';
import { GraphBuilder } from './onnx-builder.ts';

export const HEAD_IO = { input: 'features', logits: 'logits', subLogits: 'sub_logits', attention: 'attention' } as const;

/** Keras gate column blocks (i, f, c, o) -> ONNX row-block order (i, o, f, c). */
const ONNX_GATE_FROM_KERAS = [0, 3, 1, 2];

/**
 * A Keras kernel [K, 4H] (column blocks i,f,c,o) as ONNX W/R rows [4H, K] (row blocks i,o,f,c):
 * ONNX computes X·W^T, so each gate's block is transposed.
 */
function onnxGateMatrix(kernel: Float32Array, K: number, H: number): Float32Array {
  const out = new Float32Array(4 * H * K);
  ONNX_GATE_FROM_KERAS.forEach((kerasGate, onnxGate) => {
    for (let j = 0; j < H; j++) for (let k = 0; k < K; k++) out[(onnxGate * H + j) * K + k] = kernel[k * 4 * H + kerasGate * H + j]!;
  });
  return out;
}

function onnxGateBias(bias: Float32Array, H: number): Float32Array {
  // [Wb | Rb]: Keras has a single bias, so Rb is zero.
  const out = new Float32Array(8 * H);
  ONNX_GATE_FROM_KERAS.forEach((kerasGate, onnxGate) => out.set(bias.subarray(kerasGate * H, (kerasGate + 1) * H), onnxGate * H));
  return out;
}

/** input·<prefix>/kernel + <prefix>/bias, with both weights added to the graph as initialisers. */
function denseNode(g: GraphBuilder, w: HeadWeights, input: string, prefix: string, inDim: number, outDim: number): string {
  return g.op1('Add', [
    g.op1('MatMul', [input, g.float(`${prefix}/kernel`, w.get(`${prefix}/kernel`)!, [inDim, outDim])]),
    g.float(`${prefix}/bias`, w.get(`${prefix}/bias`)!, [outDim]),
  ]);
}

/** Serialised ONNX model of one head. `metadata` lands in the model's metadata_props. */
export function headToOnnx(c: HeadConfig, w: HeadWeights, metadata: Record<string, string> = {}): Uint8Array {
  checkHeadWeights(c, w);
  if (c.kind === 'stats') return statsHeadToOnnx(c, w, metadata);
  const W = (name: string) => w.get(name)!;
  const g = new GraphBuilder('vidkind-head');
  const H = c.lstmHidden;
  const E = 2 * H;
  const nh = c.attnHeads;
  const dk = E / nh;

  const x = g.input(HEAD_IO.input, ['N', 'T', c.featureDim]);
  const dense = (input: string, prefix: string, inDim: number, outDim: number) => denseNode(g, w, input, prefix, inDim, outDim);
  const layerNorm = (input: string, prefix: string, dim: number, output?: string) =>
    g.op1(
      'LayerNormalization',
      [input, g.float(`${prefix}/gamma`, W(`${prefix}/gamma`), [dim]), g.float(`${prefix}/beta`, W(`${prefix}/beta`), [dim])],
      { axis: -1, epsilon: { float: LAYER_NORM_EPS } },
      output,
    );

  const h = layerNorm(dense(x, 'proj', c.featureDim, c.projDim), 'proj_ln', c.projDim);
  // The LSTM op is time-major: [T, N, K] in, [T, 2, N, H] out.
  let seq = g.op1('Transpose', [h], { perm: [1, 0, 2] });
  const mergeDirections = g.int64('shape/T_N_2H', [0, 0, E]);
  for (let l = 0; l < c.lstmLayers; l++) {
    const K = l === 0 ? c.projDim : E;
    const Wt = new Float32Array(2 * 4 * H * K);
    const Rt = new Float32Array(2 * 4 * H * H);
    const Bt = new Float32Array(2 * 8 * H);
    ['fw', 'bw'].forEach((dir, d) => {
      Wt.set(onnxGateMatrix(W(`lstm${l}/${dir}/kernel`), K, H), d * 4 * H * K);
      Rt.set(onnxGateMatrix(W(`lstm${l}/${dir}/recurrent`), H, H), d * 4 * H * H);
      Bt.set(onnxGateBias(W(`lstm${l}/${dir}/bias`), H), d * 8 * H);
    });
    const [y] = g.op(
      'LSTM',
      [seq, g.float(`lstm${l}/W`, Wt, [2, 4 * H, K]), g.float(`lstm${l}/R`, Rt, [2, 4 * H, H]), g.float(`lstm${l}/B`, Bt, [2, 8 * H])],
      { direction: 'bidirectional', hidden_size: H },
      1,
    );
    // [T, 2, N, H] -> [T, N, 2, H] -> [T, N, 2H]: forward features first, as Keras concatenates.
    seq = g.op1('Reshape', [g.op1('Transpose', [y!], { perm: [0, 2, 1, 3] }), mergeDirections]);
  }
  const yb = g.op1('Transpose', [seq], { perm: [1, 0, 2] }); // [N, T, E]

  // Multi-head self-attention: heads are consecutive chunks of dk features.
  const split = g.int64('shape/N_T_h_dk', [0, 0, nh, dk]);
  const heads = (name: string, perm: number[]) =>
    g.op1('Transpose', [g.op1('Reshape', [dense(yb, `mhsa/${name}`, E, E), split])], { perm });
  const q = heads('q', [0, 2, 1, 3]); // [N, h, T, dk]
  const k = heads('k', [0, 2, 3, 1]); // [N, h, dk, T]
  const v = heads('v', [0, 2, 1, 3]); // [N, h, T, dk]
  const scores = g.op1('Mul', [g.op1('MatMul', [q, k]), g.float('mhsa/scale', Float32Array.of(1 / Math.sqrt(dk)), [])]);
  const weights = g.op1('Softmax', [scores], { axis: -1 });
  const ctx = g.op1('Reshape', [
    g.op1('Transpose', [g.op1('MatMul', [weights, v])], { perm: [0, 2, 1, 3] }),
    g.int64('shape/N_T_E', [0, 0, E]),
  ]);
  const z = layerNorm(g.op1('Add', [yb, dense(ctx, 'mhsa/o', E, E)]), 'mhsa_ln', E);

  // Attention pooling over time.
  const s = g.op1('MatMul', [
    g.op1('Tanh', [dense(z, 'pool', E, c.poolHidden)]),
    g.float('pool/score', W('pool/score'), [c.poolHidden, 1]),
  ]);
  const alpha = g.op1('Softmax', [g.op1('Reshape', [s, g.int64('shape/N_T', [0, -1])])], { axis: -1 }, HEAD_IO.attention);
  const pooled = g.op1('Reshape', [
    g.op1('MatMul', [g.op1('Reshape', [alpha, g.int64('shape/N_1_T', [0, 1, -1])]), z]),
    g.int64('shape/N_E', [0, E]),
  ]);

  g.op1('Identity', [dense(pooled, 'cls', E, c.classes)], {}, HEAD_IO.logits);
  g.output(HEAD_IO.logits, ['N', c.classes]);
  if (c.subclasses > 0) {
    g.op1('Identity', [dense(pooled, 'sub', E, c.subclasses)], {}, HEAD_IO.subLogits);
    g.output(HEAD_IO.subLogits, ['N', c.subclasses]);
  }
  g.output(HEAD_IO.attention, ['N', 'T']);
  return g.encode(metadata);
}

/** The "stats" head (params.ts) as a graph; ReduceMean takes its axes as an attribute at opset 17. */
function statsHeadToOnnx(c: HeadConfig, w: HeadWeights, metadata: Record<string, string>): Uint8Array {
  const g = new GraphBuilder('vidkind-head');
  const D = c.featureDim;
  const C = c.classes;
  const x = g.input(HEAD_IO.input, ['N', 'T', D]);
  const m = g.op1('ReduceMean', [x], { axes: [1], keepdims: 1 }); // [N,1,D]
  const diff = g.op1('Sub', [x, m]);
  const dev = g.op1('Mul', [diff, diff]); // [N,T,D]
  const s = g.op1('Sqrt', [
    g.op1('Add', [g.op1('ReduceMean', [dev], { axes: [1], keepdims: 1 }), g.float('stats/eps', Float32Array.of(STATS_EPS), [])]),
  ]);
  const stats = g.op1('Reshape', [g.op1('Concat', [m, s], { axis: 2 }), g.int64('shape/N_2D', [0, 2 * D])]);
  const logits = g.op1('Identity', [denseNode(g, w, stats, 'cls', 2 * D, C)], {}, HEAD_IO.logits);
  g.output(HEAD_IO.logits, ['N', C]);
  if (c.subclasses > 0) {
    g.op1('Identity', [denseNode(g, w, stats, 'sub', 2 * D, c.subclasses)], {}, HEAD_IO.subLogits);
    g.output(HEAD_IO.subLogits, ['N', c.subclasses]);
  }

  // Each frame's own logits r = [x_t, (x_t - m)^2 / s]·cls/kernel [N,T,C] (the initialiser the class
  // layer above added); its support for the verdict.
  const r = g.op1('MatMul', [g.op1('Concat', [x, g.op1('Div', [dev, s])], { axis: 2 }), 'cls/kernel']);
  const rc = g.op1('Sub', [r, g.op1('ReduceMean', [r], { axes: [2], keepdims: 1 })]);
  const q = g.op1('Reshape', [g.op1('Softmax', [logits], { axis: -1 }), g.int64('shape/N_C_1', [0, C, 1])]);
  const e = g.op1('Reshape', [g.op1('MatMul', [rc, q]), g.int64('shape/N_T', [0, -1])]);
  g.op1('Softmax', [e], { axis: -1 }, HEAD_IO.attention);
  g.output(HEAD_IO.attention, ['N', 'T']);
  return g.encode(metadata);
}
