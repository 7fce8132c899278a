/**
 * A small in-memory ONNX graph that the TF.js converter builds and the ONNX importer decodes into,
 * so that pruning, weight quantisation and serialisation are written once. Float weights stay as
 * Float32Array until `encodeModel`, where the chosen quantisation decides how they are stored.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export const DataType = onnx.TensorProto.DataType;

/** Opset the converter emits: 17 runs in onnxruntime-web (WASM and WebGPU) and -node. */
export const OPSET = 17;

/** A float weight, with the uint8 grid it came on when the source stored it that way (TF.js). */
export interface FloatWeight {
  name: string;
  dims: number[];
  data: Float32Array;
  /** value = q * scale + min for some integer q in 0..255 (TF.js uint8 weight quantisation). */
  grid?: { min: number; scale: number };
}

/** A graph in construction: one input, float weights, other constants, nodes, outputs. */
export interface Graph {
  name: string;
  input: { name: string; dims: Array<number | string> };
  outputs: Array<{ name: string; dims: Array<number | string> }>;
  nodes: NodeProto[];
  weights: FloatWeight[];
  /** Non-float initialisers (int64 shapes, pads), stored as they are. */
  constants: TensorProto[];
  /** Extra opset imports of the source (ONNX imports keep theirs). */
  opsetImports?: Array<{ domain: string; version: number }>;
  /** IR version of an ONNX source (newer opsets need newer IR); 8 otherwise. */
  irVersion?: number;
}

/** Attribute helpers: ONNX attributes are typed protobuf messages. */
export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
  ints: (name: string, ints: number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }),
  float: (name: string, f: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  string: (name: string, s: string): AttributeProto => ({
    name,
    type: onnx.AttributeProto.AttributeType.STRING,
    s: new TextEncoder().encode(s),
  }),
};

/** One node. */
export function node(opType: string, inputs: string[], outputs: string[], name: string, attributes: AttributeProto[] = []): NodeProto {
  return { opType, input: inputs, output: outputs, name, attribute: attributes };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  // Copy so the stored bytes never alias a larger buffer (Node Buffers come from a shared pool).
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/** An int64 constant tensor (shapes, pads, axes). */
export function int64Tensor(name: string, values: number[], dims = [values.length]): TensorProto {
  return { name, dims, dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))) };
}

/** A float32 tensor. */
export function floatTensor(name: string, data: Float32Array, dims: number[]): TensorProto {
  return { name, dims, dataType: DataType.FLOAT, rawData: bytesOf(data) };
}

/** A uint8 / int8 / float16 tensor from raw element bytes. */
export function rawTensor(name: string, dataType: number, data: ArrayBufferView, dims: number[]): TensorProto {
  return { name, dims, dataType, rawData: bytesOf(data) };
}

function valueInfo(name: string, dims: Array<number | string>) {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Keeps only the nodes the outputs depend on (the source's classifier head goes), in an order where
 * every node comes after its inputs' producers. Unused weights and constants go too.
 */
export function pruneAndSort(g: Graph): Graph {
  const producer = new Map<string, NodeProto>();
  for (const n of g.nodes) for (const o of n.output ?? []) producer.set(o, n);
  const visited = new Set<NodeProto>();
  const order: NodeProto[] = [];
  // Iterative DFS: the graphs are deep enough (hundreds of nodes) to make recursion fragile.
  for (const out of g.outputs) {
    const stack: Array<{ n: NodeProto; next: number }> = [];
    const root = producer.get(out.name);
    if (root && !visited.has(root)) {
      visited.add(root);
      stack.push({ n: root, next: 0 });
    }
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const inputs = top.n.input ?? [];
      if (top.next < inputs.length) {
        const p = producer.get(inputs[top.next++]!);
        if (p && !visited.has(p)) {
          visited.add(p);
          stack.push({ n: p, next: 0 });
        }
      } else {
        order.push(top.n);
        stack.pop();
      }
    }
  }
  const used = new Set(order.flatMap((n) => n.input ?? []));
  return {
    ...g,
    nodes: order,
    weights: g.weights.filter((w) => used.has(w.name)),
    constants: g.constants.filter((c) => used.has(c.name!)),
  };
}

/** Serialises a finished graph (weights already turned into tensors + dequantisation nodes). */
export function encodeModel(g: Graph, initializers: TensorProto[], preNodes: NodeProto[], metadata: Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: g.irVersion ?? 8,
    producerName: 'vidkind import-backbone',
    producerVersion: '1',
    opsetImport: g.opsetImports ?? [{ domain: '', version: OPSET }],
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key] })),
    graph: {
      name: g.name,
      node: [...preNodes, ...g.nodes],
      initializer: [...initializers, ...g.constants],
      input: [valueInfo(g.input.name, g.input.dims)],
      output: g.outputs.map((o) => valueInfo(o.name, o.dims)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The values of a float32 initialiser (raw bytes or float_data); `file` names the model in errors. */
export function floatData(t: TensorProto, file: string): Float32Array {
  if (t.dataLocation === 1)
    throw new Error(`${file} keeps weight "${t.name}" in an external data file: re-export with the weights inside the .onnx.`);
  const n = (t.dims ?? []).reduce<number>((a, b) => a * Number(b), 1);
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return new Float32Array(copy.buffer, 0, n);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Decodes ONNX bytes, turning a protobuf failure into a message a person can act on. */
export function decodeModel(bytes: Uint8Array, what: string): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${what} is not a valid ONNX model (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
  }
}
