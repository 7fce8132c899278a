/**
 * An ONNX backbone brought by the user (e.g. a torchvision ResNet-50 exported with torch.onnx.export):
 * decoded into the same Graph as TF.js conversions, cut at the embedding output, its one input
 * renamed `frames` and its float weights handed to the same quantiser.
 */
import * as ort from 'onnxruntime-node';
import {
  DataType,
  decodeModel,
  floatData,
  node,
  attr,
  pruneAndSort,
  type FloatWeight,
  type Graph,
  type NodeProto,
  type TensorProto,
} from './onnx-graph.ts';
import type { Tap } from './tfjs-to-onnx.ts';

export interface OnnxBackbone {
  graph: Graph;
  /** The source's output (or intermediate value) that became `embedding`. */
  embeddingNode: string;
  layout: 'NCHW' | 'NHWC';
  inputSize: { width: number; height: number };
  dim: number;
  /** Intermediate NCHW feature maps kept as extra graph outputs (value names renamed as in the graph). */
  taps: Tap[];
  /** The source model cut at the embedding (and taps), fp32, unmodified otherwise: the parity reference. */
  reference: { bytes: Uint8Array; input: string; output: string; taps: string[] };
}

/**
 * Loads an ONNX backbone, choosing the embedding output (default: the model's only output); `taps`
 * names intermediate NCHW feature maps to keep as extra outputs.
 */
export async function loadOnnxBackbone(bytes: Uint8Array, file: string, embedding?: string, taps: string[] = []): Promise<OnnxBackbone> {
  const model = decodeModel(bytes, file);
  const g = model.graph;
  if (!g || !g.node?.length) throw new Error(`${file} has no graph nodes: not a model.`);
  const initNames = new Set((g.initializer ?? []).map((t) => t.name!));
  const inputs = (g.input ?? []).filter((i) => !initNames.has(i.name!));
  if (inputs.length !== 1)
    throw new Error(
      `${file} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}): a backbone takes exactly one, the frames.`,
    );
  const input = inputs[0]!;
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined,
  );
  if (input.type?.tensorType?.elemType !== DataType.FLOAT) throw new Error(`${file}: input "${input.name}" is not float32.`);
  if (dims.length !== 4)
    throw new Error(`${file}: input "${input.name}" has rank ${dims.length}; a backbone takes [N, 3, H, W] or [N, H, W, 3].`);
  const layout = dims[1] === 3 ? 'NCHW' : dims[3] === 3 ? 'NHWC' : undefined;
  const [h, w] = layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  if (!layout || !h || !w)
    throw new Error(
      `${file}: input "${input.name}" must have a fixed size and 3 channels ([N, 3, H, W] or [N, H, W, 3]); export with fixed H and W.`,
    );

  const outputs = (g.output ?? []).map((o) => o.name!);
  const produced = new Set((g.node ?? []).flatMap((n) => n.output ?? []));
  const target = embedding ?? (outputs.length === 1 ? outputs[0]! : undefined);
  if (!target) throw new Error(`${file} has ${outputs.length} outputs (${outputs.join(', ')}): name the embedding with --embedding.`);
  if (!produced.has(target)) throw new Error(`${file} has no output or value named "${target}" (outputs: ${outputs.join(', ')}).`);
  for (const tap of taps)
    if (!produced.has(tap)) throw new Error(`${file} has no value named "${tap}" for --taps (values: ${[...produced].join(', ')}).`);

  // Cut the source at the embedding (and taps): the same graph with those values as its only outputs.
  const cutGraph = { ...g, output: [target, ...taps].map((name) => ({ name })) };
  const cut = { ...model, graph: pruneRaw(cutGraph as typeof g, [target, ...taps]) };
  const { onnx } = await import('./onnx-graph.ts');
  const referenceBytes = onnx.ModelProto.encode(onnx.ModelProto.create(cut)).finish();

  // The embedding's shape decides whether it needs flattening: ask onnxruntime, with one frame.
  let outDims: readonly number[];
  let tapDims: Array<readonly number[]>;
  try {
    const session = await ort.InferenceSession.create(referenceBytes);
    const shape = layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3];
    const probe = await session.run({ [input.name!]: new ort.Tensor('float32', new Float32Array(3 * h * w), shape) });
    outDims = probe[target]!.dims;
    tapDims = taps.map((t) => probe[t]!.dims);
    await session.release();
  } catch (e) {
    throw new Error(`${file} does not run in onnxruntime: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  }
  const spatialOne = outDims.length === 4 && outDims.slice(2).every((d) => d === 1);
  if (!(outDims.length === 2 || spatialOne))
    throw new Error(`The embedding "${target}" has shape [${outDims.join(', ')}], not [N, D]: choose a pooled output with --embedding.`);
  const dim = outDims[1]!;
  taps.forEach((tap, i) => {
    if (tapDims[i]!.length !== 4)
      throw new Error(
        `The tap "${tap}" has shape [${tapDims[i]!.join(', ')}], not a feature map [N, C, H, W]: --taps takes convolution outputs.`,
      );
  });

  // The input becomes `frames`; a source value already called `embedding` (a vidkind export
  // re-imported) is renamed so the new output node does not feed itself.
  const src = target === 'embedding' ? 'embedding/source' : target;
  const rename = (name: string) => (name === input.name ? 'frames' : name === 'embedding' ? 'embedding/source' : name);
  const nodes: NodeProto[] = (g.node ?? []).map((n) => ({
    ...n,
    input: (n.input ?? []).map(rename),
    output: (n.output ?? []).map(rename),
  }));
  nodes.push(
    spatialOne
      ? node('Flatten', [src], ['embedding'], 'embedding/flatten', [attr.int('axis', 1)])
      : node('Identity', [src], ['embedding'], 'embedding/identity'),
  );
  const weights: FloatWeight[] = [];
  const constants: TensorProto[] = [];
  for (const t of g.initializer ?? []) {
    if (t.dataType === DataType.FLOAT) weights.push({ name: t.name!, dims: (t.dims ?? []).map(Number), data: floatData(t, file) });
    else constants.push(t);
  }
  const graph = pruneAndSort({
    name: g.name || 'backbone',
    input: { name: 'frames', dims: layout === 'NCHW' ? ['N', 3, h, w] : ['N', h, w, 3] },
    // Taps are graph outputs here so that pruning keeps them; import-backbone pools them into `embedding`.
    outputs: [{ name: 'embedding', dims: ['N', dim] }, ...taps.map((t, i) => ({ name: rename(t), dims: ['N', ...tapDims[i]!.slice(1)] }))],
    nodes,
    weights,
    constants,
    irVersion: Math.max(8, Number(model.irVersion ?? 8)),
    opsetImports: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: Number(o.version) })),
  });
  return {
    graph,
    embeddingNode: target,
    layout,
    inputSize: { width: w, height: h },
    dim,
    taps: taps.map((t, i) => ({ name: rename(t), channels: tapDims[i]![1]! })),
    reference: { bytes: referenceBytes, input: input.name!, output: target, taps },
  };
}

/** Drops nodes the targets do not depend on (raw protobuf graph), keeping the source's node order. */
function pruneRaw<
  T extends { node?: NodeProto[] | null; initializer?: TensorProto[] | null; input?: Array<{ name?: string | null }> | null },
>(g: T, targets: string[]): T {
  const producer = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const keep = new Set<NodeProto>();
  const stack = [...targets];
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (!p || keep.has(p)) continue;
    keep.add(p);
    stack.push(...(p.input ?? []));
  }
  const node = (g.node ?? []).filter((n) => keep.has(n));
  const used = new Set(node.flatMap((n) => n.input ?? []));
  const initializer = (g.initializer ?? []).filter((t) => used.has(t.name!));
  const dropped = new Set((g.initializer ?? []).filter((t) => !used.has(t.name!)).map((t) => t.name!));
  return { ...g, node, initializer, input: (g.input ?? []).filter((i) => !dropped.has(i.name!)) };
}
