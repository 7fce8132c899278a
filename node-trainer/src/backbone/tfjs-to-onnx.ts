/**
 * TF.js -> ONNX for CNN backbones: Keras layers models and TF graph models (what tfjs-converter
 * emits), covering the ops MobileNet/Inception-style networks use. Only the part of the network
 * that the embedding depends on is converted, so a classifier head with exotic ops does not matter.
 *
 * TF is NHWC; ONNX convolutions are NCHW. The ONNX model takes NHWC frames (as the TF.js model did),
 * transposes once, and keeps every 4-D value NCHW inside. Shapes are tracked in TF order (N, H, W, C)
 * so that SAME padding can be written as explicit pads (TF pads the extra pixel at the end).
 */
import { attr, node, int64Tensor, pruneAndSort, type FloatWeight, type Graph, type NodeProto, type TensorProto } from './onnx-graph.ts';
import type { TfjsModel, TfjsWeight } from './tfjs-source.ts';

export interface ConvertedBackbone {
  graph: Graph;
  /** The TF.js node / layer whose output became `embedding`. */
  embeddingNode: string;
  inputSize: { width: number; height: number };
  dim: number;
  /** Intermediate feature maps kept as extra graph outputs (NCHW), in the order asked: see `--taps`. */
  taps: Tap[];
}

/** A feature map the graph exposes besides the embedding: its value name and channel count. */
export interface Tap {
  name: string;
  channels: number;
}

type Shape = number[];
type Activation = 'linear' | 'relu' | 'relu6';

/** A TF.js op / layer the converter has no rule for; the message names every one found. */
export class UnsupportedOpError extends Error {
  constructor(readonly ops: string[]) {
    super(
      `Unsupported TF.js op${ops.length > 1 ? 's' : ''}: ${ops.join(', ')}. vidkind's TF.js -> ONNX converter covers ` +
        `convolutional backbones (Conv2D, DepthwiseConv2D, BatchNormalization, ReLU/ReLU6, Add, pooling, Dense); ` +
        `export the model to ONNX another way and use --from onnx, or pick an --embedding node before the op.`,
    );
    this.name = 'UnsupportedOpError';
  }
}

/** Emits ONNX nodes while tracking TF-order shapes of every value. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly weights: FloatWeight[] = [];
  readonly constants: TensorProto[] = [];
  readonly shapes = new Map<string, Shape>();
  private counter = 0;

  unique(base: string): string {
    return `${base}__${this.counter++}`;
  }

  weight(name: string, dims: number[], data: Float32Array, grid?: TfjsWeight['grid']): string {
    this.weights.push({ name, dims, data, grid });
    return name;
  }

  /** Relu / Clip(0, 6) after `x`, or `x` itself for linear. */
  activation(x: string, act: Activation, name: string): string {
    if (act === 'linear') return x;
    const out = `${name}/${act}`;
    if (act === 'relu') this.nodes.push(node('Relu', [x], [out], out));
    else {
      const lo = this.weight(`${out}/min`, [], new Float32Array([0]));
      const hi = this.weight(`${out}/max`, [], new Float32Array([6]));
      this.nodes.push(node('Clip', [x, lo, hi], [out], out));
    }
    this.shapes.set(out, this.shapes.get(x)!);
    return out;
  }

  /**
   * A (depthwise) convolution from a TF kernel: [kh, kw, in, out] or, depthwise, [kh, kw, in, mult].
   * `pad` is 'same', 'valid' or explicit [top, bottom, left, right].
   */
  conv(
    name: string,
    x: string,
    kernel: TfjsWeight,
    bias: TfjsWeight | undefined,
    o: { strides: [number, number]; dilations: [number, number]; pad: 'same' | 'valid' | number[]; depthwise: boolean },
  ): string {
    const [kh, kw, cin, k3] = kernel.shape as [number, number, number, number];
    const cout = o.depthwise ? cin * k3 : k3;
    const w = new Float32Array(kernel.data.length);
    // TF HWIO (or HW,C,mult) -> ONNX OIHW (depthwise: [C*mult, 1, kh, kw], output channel c*mult+m).
    for (let h = 0; h < kh; h++)
      for (let x2 = 0; x2 < kw; x2++)
        for (let i = 0; i < cin; i++)
          for (let j = 0; j < k3; j++) {
            const src = ((h * kw + x2) * cin + i) * k3 + j;
            const dst = o.depthwise ? ((i * k3 + j) * kh + h) * kw + x2 : ((j * cin + i) * kh + h) * kw + x2;
            w[dst] = kernel.data[src]!;
          }
    const inShape = this.shapes.get(x)!;
    const [n, ih, iw] = inShape as [number, number, number, number];
    const [sh, sw] = o.strides;
    const [dh, dw] = o.dilations;
    const pads = (size: number, k: number, s: number, d: number): [number, number] => {
      if (o.pad === 'valid') return [0, 0];
      const eff = (k - 1) * d + 1;
      const out = Math.ceil(size / s);
      const total = Math.max((out - 1) * s + eff - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [pt, pb] = Array.isArray(o.pad) ? [o.pad[0]!, o.pad[1]!] : pads(ih, kh, sh, dh);
    const [pl, pr] = Array.isArray(o.pad) ? [o.pad[2]!, o.pad[3]!] : pads(iw, kw, sw, dw);
    const oh = Math.floor((ih + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
    const ow = Math.floor((iw + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
    const inputs = [x, this.weight(`${name}/W`, [cout, o.depthwise ? 1 : cin, kh, kw], w, kernel.grid)];
    if (bias) inputs.push(this.weight(`${name}/B`, [cout], bias.data, bias.grid));
    this.nodes.push(
      node('Conv', inputs, [name], name, [
        attr.ints('kernel_shape', [kh, kw]),
        attr.ints('strides', [sh, sw]),
        attr.ints('dilations', [dh, dw]),
        attr.ints('pads', [pt, pl, pb, pr]),
        attr.int('group', o.depthwise ? cin : 1),
      ]),
    );
    this.shapes.set(name, [n, oh, ow, cout]);
    return name;
  }

  /** x [N, K] times a TF kernel [K, M] (+ bias). */
  dense(name: string, x: string, kernel: TfjsWeight, bias: TfjsWeight | undefined, transposeB = false): string {
    const inputs = [x, this.weight(`${name}/W`, kernel.shape, kernel.data, kernel.grid)];
    if (bias) inputs.push(this.weight(`${name}/B`, bias.shape, bias.data, bias.grid));
    this.nodes.push(node('Gemm', inputs, [name], name, [attr.int('transB', transposeB ? 1 : 0)]));
    const m = transposeB ? kernel.shape[0]! : kernel.shape[1]!;
    this.shapes.set(name, [this.shapes.get(x)![0]!, m]);
    return name;
  }

  pool(
    op: 'AveragePool' | 'MaxPool',
    name: string,
    x: string,
    k: [number, number],
    s: [number, number],
    padding: 'same' | 'valid',
  ): string {
    const [n, ih, iw, c] = this.shapes.get(x)! as [number, number, number, number];
    const pads = (size: number, kk: number, ss: number): [number, number, number] => {
      if (padding === 'valid') return [0, 0, Math.floor((size - kk) / ss) + 1];
      const out = Math.ceil(size / ss);
      const total = Math.max((out - 1) * ss + kk - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2), out];
    };
    const [pt, pb, oh] = pads(ih, k[0], s[0]);
    const [pl, pr, ow] = pads(iw, k[1], s[1]);
    const attrs = [attr.ints('kernel_shape', k), attr.ints('strides', s), attr.ints('pads', [pt, pl, pb, pr])];
    // TF's SAME average pooling divides by the number of real pixels in the window.
    if (op === 'AveragePool') attrs.push(attr.int('count_include_pad', 0));
    this.nodes.push(node(op, [x], [name], name, attrs));
    this.shapes.set(name, [n, oh, ow, c]);
    return name;
  }

  /** [N, H, W, C] (NCHW inside) -> [N, H*W*C] in TF's order. */
  flatten(name: string, x: string): string {
    const shape = this.shapes.get(x)!;
    let src = x;
    if (shape.length === 4 && (shape[1] !== 1 || shape[2] !== 1)) {
      src = `${name}/nhwc`;
      this.nodes.push(node('Transpose', [x], [src], src, [attr.ints('perm', [0, 2, 3, 1])]));
    }
    this.nodes.push(node('Flatten', [src], [name], name, [attr.int('axis', 1)]));
    this.shapes.set(name, [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)]);
    return name;
  }

  globalAvg(name: string, x: string, keepDims: boolean): string {
    const [n, , , c] = this.shapes.get(x)! as [number, number, number, number];
    const pooled = keepDims ? name : `${name}/pool`;
    this.nodes.push(node('GlobalAveragePool', [x], [pooled], pooled));
    this.shapes.set(pooled, [n, 1, 1, c]);
    return keepDims ? name : this.flatten(name, pooled);
  }

  /** Concatenation along a TF axis (negative counts from the end); the channel axis maps to NCHW's 1. */
  concat(name: string, inputs: string[], tfAxis: number): string {
    const shapes = inputs.map((i) => this.shapes.get(i)!);
    const rank = shapes[0]!.length;
    const axis = tfAxis < 0 ? rank + tfAxis : tfAxis;
    const onnxAxis = rank === 4 ? [0, 2, 3, 1][axis]! : axis;
    this.nodes.push(node('Concat', inputs, [name], name, [attr.int('axis', onnxAxis)]));
    const out = [...shapes[0]!];
    out[axis] = shapes.reduce((n, sh) => n + sh[axis]!, 0);
    this.shapes.set(name, out);
    return name;
  }

  binary(op: 'Add' | 'Mul' | 'Sub' | 'Div' | 'Max' | 'Min', name: string, a: string, b: string): string {
    this.nodes.push(node(op, [a, b], [name], name));
    const sa = this.shapes.get(a)!;
    const sb = this.shapes.get(b)!;
    this.shapes.set(name, sa.length >= sb.length ? sa : sb);
    return name;
  }
}

/** Input: NHWC frames -> NCHW value `name`. */
function emitInput(e: Emitter, name: string, h: number, w: number): Graph['input'] {
  e.nodes.push(node('Transpose', ['frames'], [name], `${name}/to_nchw`, [attr.ints('perm', [0, 3, 1, 2])]));
  e.shapes.set(name, [-1, h, w, 3]);
  return { name: 'frames', dims: ['N', h, w, 3] };
}

/** Turns the chosen value into the `[N, D]` output `embedding`. */
function emitEmbedding(e: Emitter, value: string, what: string): number {
  const shape = e.shapes.get(value)!;
  if (shape.length === 4 && shape[1] === 1 && shape[2] === 1) {
    e.nodes.push(node('Flatten', [value], ['embedding'], 'embedding', [attr.int('axis', 1)]));
    return shape[3]!;
  }
  if (shape.length !== 2)
    throw new Error(`The embedding node "${what}" has shape [${shape.join(', ')}], not [N, D]: choose a pooled node with --embedding.`);
  e.nodes.push(node('Identity', [value], ['embedding'], 'embedding'));
  return shape[1]!;
}

/** Checks that every tap is a 4-D feature map; returns them with their channel counts. */
function tapShapes(e: Emitter, taps: string[], what: 'layer' | 'node'): Array<Tap & { shape: Shape }> {
  return taps.map((name) => {
    const shape = e.shapes.get(name);
    if (!shape || shape.length !== 4)
      throw new Error(
        `The tap ${what} "${name}" is ${shape ? `of shape [${shape.join(', ')}]` : 'a constant'}, not a feature map [N, H, W, C]: ` +
          `--taps takes the outputs of convolutional ${what}s.`,
      );
    return { name, channels: shape[3]!, shape };
  });
}

function finish(
  e: Emitter,
  input: Graph['input'],
  name: string,
  embeddingNode: string,
  dim: number,
  taps: Array<Tap & { shape: Shape }> = [],
): ConvertedBackbone {
  const graph = pruneAndSort({
    name,
    input,
    // Taps are graph outputs here so that pruning keeps them; import-backbone pools them into `embedding`.
    outputs: [
      { name: 'embedding', dims: ['N', dim] },
      ...taps.map((t) => ({ name: t.name, dims: ['N', t.shape[3]!, t.shape[1]!, t.shape[2]!] })),
    ],
    nodes: e.nodes,
    weights: e.weights,
    constants: e.constants,
  });
  return {
    graph,
    embeddingNode,
    inputSize: { width: input.dims[2] as number, height: input.dims[1] as number },
    dim,
    taps: taps.map((t) => ({ name: t.name, channels: t.channels })),
  };
}

// ---------------------------------------------------------------- Keras layers models

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: Array<Array<[string, number, number, unknown]>>;
}

const KERAS_SUPPORTED = new Set([
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'Concatenate',
  'AveragePooling2D',
  'MaxPooling2D',
  'GlobalAveragePooling2D',
  'Flatten',
  'Dense',
  'Dropout',
]);

function kerasActivation(a: unknown, layer: string): Activation {
  if (a === undefined || a === null || a === 'linear') return 'linear';
  if (a === 'relu') return 'relu';
  if (a === 'relu6') return 'relu6';
  throw new UnsupportedOpError([`activation "${String(a)}" (layer "${layer}")`]);
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)];
}

function convertLayers(model: TfjsModel, embedding: string | undefined, taps: string[]): ConvertedBackbone {
  const topo = model.topology as {
    model_config?: { config: { layers: KerasLayer[]; output_layers: unknown[] } };
    config?: { layers: KerasLayer[] };
  };
  const config = topo.model_config?.config ?? (topo as { config: { layers: KerasLayer[]; output_layers: unknown[] } }).config;
  const layers: KerasLayer[] = config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputsOf = (l: KerasLayer) => (l.inbound_nodes[0] ?? []).map((n) => n[0]);
  const firstDense = layers.find((l) => l.class_name === 'Dense');
  const outputLayer =
    ((config as { output_layers?: Array<[string]> }).output_layers?.[0]?.[0] as string | undefined) ?? layers.at(-1)!.name;
  const target = embedding ?? (firstDense ? inputsOf(firstDense)[0]! : outputLayer);
  if (!byName.has(target)) throw new Error(`No layer named "${target}" in the model (layers: ${layers.map((l) => l.name).join(', ')}).`);
  for (const tap of taps)
    if (!byName.has(tap)) throw new Error(`No layer named "${tap}" for --taps (layers: ${layers.map((l) => l.name).join(', ')}).`);

  const needed = new Set<string>();
  const stack = [target, ...taps];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    const l = byName.get(n);
    if (!l) throw new Error(`Layer "${n}" is referenced but not defined in the model.`);
    stack.push(...inputsOf(l));
  }
  const unsupported = layers
    .filter((l) => needed.has(l.name) && !KERAS_SUPPORTED.has(l.class_name))
    .map((l) => `${l.class_name} (layer "${l.name}")`);
  if (unsupported.length) throw new UnsupportedOpError(unsupported);

  const e = new Emitter();
  let input: Graph['input'] | undefined;
  const w = (l: KerasLayer, key: string): TfjsWeight => {
    const found = model.weights.get(`${l.name}/${key}`);
    if (!found) throw new Error(`Layer "${l.name}" needs weight "${l.name}/${key}", which the weights manifest lacks.`);
    return found;
  };
  for (const l of layers) {
    if (!needed.has(l.name)) continue;
    const c = l.config;
    const ins = inputsOf(l);
    const x = ins[0]!;
    const name = l.name;
    const fmt = c.data_format as string | undefined;
    if (fmt && fmt !== 'channels_last') throw new UnsupportedOpError([`${l.class_name} with data_format ${fmt} (layer "${name}")`]);
    switch (l.class_name) {
      case 'InputLayer': {
        const shape = c.batch_input_shape as Array<number | null>;
        if (shape.length !== 4 || shape[3] !== 3 || !shape[1] || !shape[2])
          throw new Error(`Input "${name}" has shape [${shape.join(', ')}]: a backbone takes [N, H, W, 3] images of a fixed size.`);
        input = emitInput(e, name, shape[1], shape[2]);
        break;
      }
      case 'ZeroPadding2D': {
        const p = c.padding as number | [number, number] | [[number, number], [number, number]];
        const [[t, b], [lft, r]] =
          typeof p === 'number'
            ? [
                [p, p],
                [p, p],
              ]
            : Array.isArray(p[0])
              ? (p as [[number, number], [number, number]])
              : [
                  [p[0] as number, p[0] as number],
                  [p[1] as number, p[1] as number],
                ];
        const pads = e.unique(`${name}/pads`);
        e.constants.push(int64Tensor(pads, [0, 0, t, lft, 0, 0, b, r]));
        e.nodes.push(node('Pad', [x, pads], [name], name, [attr.string('mode', 'constant')]));
        const [n, h, wd, ch] = e.shapes.get(x)! as [number, number, number, number];
        e.shapes.set(name, [n, h + t + b, wd + lft + r, ch]);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = l.class_name === 'DepthwiseConv2D';
        const out = e.conv(`${name}/conv`, x, w(l, depthwise ? 'depthwise_kernel' : 'kernel'), c.use_bias ? w(l, 'bias') : undefined, {
          strides: pair(c.strides),
          dilations: pair(c.dilation_rate ?? 1),
          pad: c.padding === 'same' ? 'same' : 'valid',
          depthwise,
        });
        const act = e.activation(out, kerasActivation(c.activation, name), name);
        e.nodes.push(node('Identity', [act], [name], `${name}/out`));
        e.shapes.set(name, e.shapes.get(act)!);
        break;
      }
      case 'BatchNormalization': {
        const shape = e.shapes.get(x)!;
        const axis = c.axis as number | number[];
        const ax = Array.isArray(axis) ? axis[0] : axis;
        if (ax !== -1 && ax !== shape.length - 1)
          throw new UnsupportedOpError([`BatchNormalization on axis ${String(ax)} (layer "${name}")`]);
        const ch = shape[shape.length - 1]!;
        const ones = new Float32Array(ch).fill(1);
        const zeros = new Float32Array(ch);
        const gamma = c.scale === false ? { shape: [ch], data: ones } : w(l, 'gamma');
        const beta = c.center === false ? { shape: [ch], data: zeros } : w(l, 'beta');
        const ins2 = [
          x,
          e.weight(`${name}/scale`, [ch], gamma.data, (gamma as TfjsWeight).grid),
          e.weight(`${name}/bias`, [ch], beta.data, (beta as TfjsWeight).grid),
          e.weight(`${name}/mean`, [ch], w(l, 'moving_mean').data, w(l, 'moving_mean').grid),
          e.weight(`${name}/var`, [ch], w(l, 'moving_variance').data, w(l, 'moving_variance').grid),
        ];
        e.nodes.push(node('BatchNormalization', ins2, [name], name, [attr.float('epsilon', Number(c.epsilon ?? 1e-3))]));
        e.shapes.set(name, shape);
        break;
      }
      case 'ReLU': {
        const max = c.max_value as number | null | undefined;
        if ((c.negative_slope && c.negative_slope !== 0) || (c.threshold && c.threshold !== 0) || (max != null && max !== 6))
          throw new UnsupportedOpError([`ReLU with negative_slope/threshold/max_value ${String(max)} (layer "${name}")`]);
        const act = e.activation(x, max === 6 ? 'relu6' : 'relu', name);
        e.nodes.push(node('Identity', [act], [name], `${name}/out`));
        e.shapes.set(name, e.shapes.get(x)!);
        break;
      }
      case 'Activation': {
        const act = e.activation(x, kerasActivation(c.activation, name), name);
        e.nodes.push(node('Identity', [act], [name], `${name}/out`));
        e.shapes.set(name, e.shapes.get(x)!);
        break;
      }
      case 'Dropout':
        e.nodes.push(node('Identity', [x], [name], name));
        e.shapes.set(name, e.shapes.get(x)!);
        break;
      case 'Add': {
        let acc = ins[0]!;
        for (let i = 1; i < ins.length; i++) acc = e.binary('Add', i === ins.length - 1 ? name : `${name}/${i}`, acc, ins[i]!);
        break;
      }
      case 'Concatenate':
        e.concat(name, ins, Number(c.axis ?? -1));
        break;
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const k = pair(c.pool_size);
        e.pool(
          l.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
          name,
          x,
          k,
          c.strides ? pair(c.strides) : k,
          c.padding === 'same' ? 'same' : 'valid',
        );
        break;
      }
      case 'GlobalAveragePooling2D':
        e.globalAvg(name, x, Boolean(c.keepdims));
        break;
      case 'Flatten':
        e.flatten(name, x);
        break;
      case 'Dense': {
        const out = e.dense(`${name}/gemm`, x, w(l, 'kernel'), c.use_bias ? w(l, 'bias') : undefined);
        const act = e.activation(out, kerasActivation(c.activation, name), name);
        e.nodes.push(node('Identity', [act], [name], `${name}/out`));
        e.shapes.set(name, e.shapes.get(act)!);
        break;
      }
    }
  }
  if (!input) throw new Error('The model has no InputLayer on the path to the embedding.');
  const tapInfo = tapShapes(e, taps, 'layer');
  const dim = emitEmbedding(e, target, target);
  return finish(e, input, 'backbone', target, dim, tapInfo);
}

// ---------------------------------------------------------------- TF graph models

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<
    string,
    { s?: string; i?: string; f?: number; b?: boolean; list?: { i?: string[]; s?: string[] }; shape?: { dim?: Array<{ size: string }> } }
  >;
}

const GRAPH_SUPPORTED = new Set([
  'Placeholder',
  'Const',
  'Identity',
  'Mul',
  'Sub',
  'Add',
  'AddV2',
  'RealDiv',
  'Maximum',
  'Minimum',
  'Relu',
  'Relu6',
  'BiasAdd',
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'AvgPool',
  'MaxPool',
  'Mean',
  'Squeeze',
  'MatMul',
  '_FusedMatMul',
  'Softmax',
  'Pad',
  'ConcatV2',
]);

const text = (b64: string | undefined) => (b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('utf8'));
const ints = (a: { list?: { i?: string[] } } | undefined) => (a?.list?.i ?? []).map(Number);
const clean = (input: string) => input.replace(/^\^/, '').replace(/:0$/, '');

function convertGraph(model: TfjsModel, embedding: string | undefined, taps: string[]): ConvertedBackbone {
  const nodes = (model.topology as { node: TfNode[] }).node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const dataInputs = (n: TfNode) => (n.input ?? []).filter((i) => !i.startsWith('^')).map(clean);
  const firstMatMul = nodes.find((n) => n.op === 'MatMul' || n.op === '_FusedMatMul');
  const target = embedding ?? (firstMatMul ? dataInputs(firstMatMul)[0]! : nodes.at(-1)!.name);
  if (!byName.has(target)) throw new Error(`No node named "${target}" in the graph model.`);
  for (const tap of taps)
    if (!byName.has(tap)) throw new Error(`No node named "${tap}" for --taps (nodes: ${nodes.map((n) => n.name).join(', ')}).`);

  // Depth-first from the embedding (then from each tap): the needed nodes, producers first.
  const order: TfNode[] = [];
  const seen = new Set<string>();
  const stack: Array<{ n: TfNode; i: number }> = [];
  for (const root of [target, ...taps]) {
    if (seen.has(root)) continue;
    seen.add(root);
    stack.push({ n: byName.get(root)!, i: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const ins = dataInputs(top.n);
      if (top.i < ins.length) {
        const name = ins[top.i++]!;
        if (seen.has(name)) continue;
        const p = byName.get(name);
        if (!p) throw new Error(`Node "${top.n.name}" reads "${name}", which the graph does not define.`);
        seen.add(name);
        stack.push({ n: p, i: 0 });
      } else order.push(stack.pop()!.n);
    }
  }
  const unsupported = order.filter((n) => !GRAPH_SUPPORTED.has(n.op)).map((n) => `${n.op} (node "${n.name}")`);
  if (unsupported.length) throw new UnsupportedOpError(unsupported);

  const e = new Emitter();
  let input: Graph['input'] | undefined;
  const consts = new Map<string, TfjsWeight>();
  const constOf = (name: string): TfjsWeight | undefined => consts.get(name);
  /** A constant operand of an elementwise op, shaped to broadcast against NCHW values. */
  const operand = (name: string, other: string): string => {
    const k = constOf(name);
    if (!k) return name;
    const otherRank = e.shapes.get(other)?.length ?? 0;
    const dims = k.shape.length === 1 && otherRank === 4 ? [1, k.shape[0]!, 1, 1] : k.shape;
    if (k.shape.length > 1 && otherRank === 4)
      throw new UnsupportedOpError([`elementwise op with a ${k.shape.length}-D constant "${name}"`]);
    const id = e.unique(name);
    e.weight(id, dims, k.data, k.grid);
    e.shapes.set(id, k.shape);
    return id;
  };
  const fused = (n: TfNode): { bias: boolean; act: Activation } => {
    const ops = (n.attr?.fused_ops?.list?.s ?? []).map(text);
    let bias = false;
    let act: Activation = 'linear';
    for (const op of ops) {
      if (op === 'BiasAdd') bias = true;
      else if (op === 'Relu') act = 'relu';
      else if (op === 'Relu6') act = 'relu6';
      else throw new UnsupportedOpError([`${n.op} with fused ${op} (node "${n.name}")`]);
    }
    return { bias, act };
  };
  const alias = (name: string, src: string) => {
    e.nodes.push(node('Identity', [src], [name], name));
    e.shapes.set(name, e.shapes.get(src)!);
  };

  for (const n of order) {
    const ins = dataInputs(n);
    const a = n.attr ?? {};
    const fmt = text(a.data_format?.s);
    if (fmt && fmt !== 'NHWC') throw new UnsupportedOpError([`${n.op} with data_format ${fmt} (node "${n.name}")`]);
    switch (n.op) {
      case 'Placeholder': {
        const dims = (a.shape?.shape?.dim ?? []).map((d) => Number(d.size));
        if (dims.length !== 4 || dims[3] !== 3 || !(dims[1]! > 0) || !(dims[2]! > 0))
          throw new Error(`Input "${n.name}" has shape [${dims.join(', ')}]: a backbone takes [N, H, W, 3] images of a fixed size.`);
        if (input) throw new Error('The graph model has more than one input on the path to the embedding.');
        input = emitInput(e, n.name, dims[1]!, dims[2]!);
        break;
      }
      case 'Const': {
        const k = model.weights.get(n.name);
        if (!k) throw new Error(`Constant "${n.name}" is not in the weights manifest (inline constants are not supported).`);
        consts.set(n.name, k);
        break;
      }
      case 'Identity':
        if (constOf(ins[0]!)) consts.set(n.name, constOf(ins[0]!)!);
        else alias(n.name, ins[0]!);
        break;
      case 'Mul':
      case 'Sub':
      case 'Add':
      case 'AddV2':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum':
      case 'BiasAdd': {
        const op = (
          { Mul: 'Mul', Sub: 'Sub', Add: 'Add', AddV2: 'Add', BiasAdd: 'Add', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min' } as const
        )[n.op];
        const [x, y] = [ins[0]!, ins[1]!];
        if (constOf(x) && constOf(y)) throw new UnsupportedOpError([`${n.op} of two constants (node "${n.name}")`]);
        e.binary(op, n.name, operand(x, y), operand(y, x));
        e.shapes.set(n.name, e.shapes.get(constOf(x) ? y : x)!);
        break;
      }
      case 'Relu':
      case 'Relu6':
        alias(n.name, e.activation(ins[0]!, n.op === 'Relu' ? 'relu' : 'relu6', n.name));
        break;
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const depthwise = n.op.includes('Depthwise');
        const { bias, act } =
          n.op.startsWith('Fused') || n.op.startsWith('_Fused') ? fused(n) : { bias: false, act: 'linear' as Activation };
        const kernel = constOf(ins[1]!);
        if (!kernel) throw new UnsupportedOpError([`${n.op} with a non-constant filter (node "${n.name}")`]);
        const s = ints(a.strides);
        const d = ints(a.dilations);
        const padding = text(a.padding?.s);
        const explicit = ints(a.explicit_paddings);
        const conv = e.conv(`${n.name}/conv`, ins[0]!, kernel, bias ? constOf(ins[2]!) : undefined, {
          strides: [s[1] ?? 1, s[2] ?? 1],
          dilations: [d[1] ?? 1, d[2] ?? 1],
          pad: padding === 'SAME' ? 'same' : padding === 'EXPLICIT' ? [explicit[2]!, explicit[3]!, explicit[4]!, explicit[5]!] : 'valid',
          depthwise,
        });
        alias(n.name, e.activation(conv, act, n.name));
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        const k = ints(a.ksize);
        const s = ints(a.strides);
        e.pool(
          n.op === 'AvgPool' ? 'AveragePool' : 'MaxPool',
          n.name,
          ins[0]!,
          [k[1]!, k[2]!],
          [s[1]!, s[2]!],
          text(a.padding?.s) === 'SAME' ? 'same' : 'valid',
        );
        break;
      }
      case 'Mean': {
        const axes = constOf(ins[1]!);
        const rank = e.shapes.get(ins[0]!)?.length;
        const ax = axes ? Array.from(axes.data).sort() : [];
        if (rank !== 4 || ax.join() !== '1,2') throw new UnsupportedOpError([`Mean over axes other than [1, 2] (node "${n.name}")`]);
        e.globalAvg(n.name, ins[0]!, Boolean(a.keep_dims?.b));
        break;
      }
      case 'Squeeze': {
        const shape = e.shapes.get(ins[0]!)!;
        const dims = ints(a.squeeze_dims);
        if (shape.length !== 4 || shape[1] !== 1 || shape[2] !== 1 || (dims.length && dims.sort().join() !== '1,2'))
          throw new UnsupportedOpError([`Squeeze other than of the two 1x1 spatial axes (node "${n.name}")`]);
        e.flatten(n.name, ins[0]!);
        break;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const kernel = constOf(ins[1]!);
        if (!kernel || a.transpose_a?.b)
          throw new UnsupportedOpError([`${n.op} with a non-constant or transposed operand (node "${n.name}")`]);
        const { bias, act } = n.op === '_FusedMatMul' ? fused(n) : { bias: false, act: 'linear' as Activation };
        const out = e.dense(`${n.name}/gemm`, ins[0]!, kernel, bias ? constOf(ins[2]!) : undefined, Boolean(a.transpose_b?.b));
        alias(n.name, e.activation(out, act, n.name));
        break;
      }
      case 'ConcatV2': {
        const axis = constOf(ins.at(-1)!);
        if (!axis) throw new UnsupportedOpError([`ConcatV2 with a non-constant axis (node "${n.name}")`]);
        e.concat(n.name, ins.slice(0, -1), axis.data[0]!);
        break;
      }
      case 'Softmax':
        e.nodes.push(node('Softmax', [ins[0]!], [n.name], n.name, [attr.int('axis', -1)]));
        e.shapes.set(n.name, e.shapes.get(ins[0]!)!);
        break;
      case 'Pad': {
        const p = constOf(ins[1]!);
        if (!p || e.shapes.get(ins[0]!)?.length !== 4) throw new UnsupportedOpError([`Pad with non-constant paddings (node "${n.name}")`]);
        const v = Array.from(p.data);
        const pads = e.unique(`${n.name}/pads`);
        // TF paddings [[n0,n1],[h0,h1],[w0,w1],[c0,c1]] -> ONNX NCHW begins then ends.
        e.constants.push(int64Tensor(pads, [v[0]!, v[6]!, v[2]!, v[4]!, v[1]!, v[7]!, v[3]!, v[5]!]));
        e.nodes.push(node('Pad', [ins[0]!, pads], [n.name], n.name, [attr.string('mode', 'constant')]));
        const [b, h, w, c] = e.shapes.get(ins[0]!)! as [number, number, number, number];
        e.shapes.set(n.name, [b, h + v[2]! + v[3]!, w + v[4]! + v[5]!, c + v[6]! + v[7]!]);
        break;
      }
    }
  }
  if (!input) throw new Error('The graph model has no Placeholder input on the path to the embedding.');
  const tapInfo = tapShapes(e, taps, 'node');
  const dim = emitEmbedding(e, target, target);
  return finish(e, input, 'backbone', target, dim, tapInfo);
}

/**
 * Converts the part of a TF.js model up to the embedding node (default: the input of the first Dense / MatMul),
 * plus the part up to each tap (layer / node names of 4-D feature maps), which are kept as extra outputs.
 */
export function tfjsToOnnx(model: TfjsModel, embedding?: string, taps: string[] = []): ConvertedBackbone {
  return model.format === 'layers' ? convertLayers(model, embedding, taps) : convertGraph(model, embedding, taps);
}
