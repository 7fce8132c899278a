/**
 * A minimal ONNX graph builder on onnx-proto: named float initialisers, nodes with typed
 * attributes, dynamic-dimension inputs and outputs, serialised at opset 17 (which onnxruntime-web,
 * WASM and WebGPU, and onnxruntime-node all run).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export const OPSET = 17;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { strings: string[] };

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  return { name, type: AttrType.STRINGS, strings: v.strings.map((s) => new TextEncoder().encode(s)) };
}

function rawBytes(view: ArrayBufferView): Uint8Array {
  // A copy: Node Buffers and subarrays share larger buffers, which must not leak into the file.
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function valueInfo(name: string, dims: Array<number | string>) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Builds one graph; names are made unique by the caller's prefixes. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: ReturnType<typeof valueInfo>[] = [];
  private readonly outputs: ReturnType<typeof valueInfo>[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, dims: Array<number | string>): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Array<number | string>): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 initialiser. */
  float(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`initialiser ${name}: ${data.length} values for dims ${dims.join('x')}`);
    this.inits.push({ name, dims, dataType: FLOAT, rawData: rawBytes(data) });
    return name;
  }

  /** An int64 initialiser (shapes, axes). */
  int64(name: string, values: number[]): string {
    this.inits.push({ name, dims: [values.length], dataType: INT64, rawData: rawBytes(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  /** Adds a node; returns its output names (fresh ones unless given). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: string[] | number = 1): string[] {
    const id = `${opType}_${this.counter++}`;
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${id}_out${i}`) : outputs;
    this.nodes.push({
      opType,
      name: id,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output shorthand. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.op(opType, inputs, attrs, output ? [output] : 1)[0]!;
  }

  /** The serialised model. */
  encode(metadata: Record<string, string> = {}, producer = 'vidkind export'): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      producerVersion: '1',
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.keys(metadata)
        .sort()
        .map((key) => ({ key, value: metadata[key] })),
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
