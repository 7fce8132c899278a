/**
 * Native measurements in onnxruntime-node, the floor the browser is compared with:
 *  - the machine's FLOP rate (a timed 1024x1024 float32 MatMul, 1 and 2 threads),
 *  - the multiply-accumulates of an ONNX model (Conv, MatMul, Gemm, LSTM), counted from the real
 *    tensor shapes of one run, so that a model's floor is its FLOPs / the measured FLOP rate,
 *  - a model's ms/frame at batch 1 and 32, the reference for the in-browser overhead.
 *
 * Run as a child process of the bench (`tsx bench/native.ts <command> ...`); prints one JSON line per figure.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { timeRuns } from './stats.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  };
}

/** GFLOP/s of a float32 N x N MatMul (2 N^3 FLOPs per run): the best case for dense math on this CPU. */
async function flopRate(threads: number, n = 1024): Promise<void> {
  const vi = (name: string) => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } },
  });
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'vidkind-bench',
    graph: { name: 'matmul', node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }], input: [vi('a'), vi('b')], output: [vi('c')] },
  }).finish();
  const session = await ort.InferenceSession.create(model, sessionOptions(threads));
  const rand = () => Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const feeds = { a: new ort.Tensor('float32', rand(), [n, n]), b: new ort.Tensor('float32', rand(), [n, n]) };
  const times = await timeRuns(() => session.run(feeds), 3, 15);
  const gflops = times.map((ms) => (2 * n ** 3) / (ms * 1e6));
  emit({ kind: 'flop-rate', threads, n, gflops: stats(gflops), msPerRun: stats(times) });
}

interface InputSpec {
  name: string;
  dims: number[];
}

/** The model's float inputs with symbolic dims fixed: batch 1, sequence (any other symbolic dim) T. */
function inputSpecs(model: onnxProto.onnx.ModelProto, batch: number, t: number): InputSpec[] {
  const inits = new Set(model.graph!.initializer!.map((i) => i.name));
  return model
    .graph!.input!.filter((i) => !inits.has(i.name))
    .map((i) => {
      const dims = i.type!.tensorType!.shape!.dim!.map((d, k) => (d.dimValue ? Number(d.dimValue) : k === 0 ? batch : t));
      return { name: i.name!, dims };
    });
}

const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Multiply-accumulates per run at batch 1: every Conv, MatMul, Gemm and LSTM is exposed as a graph
 * output, the model runs once, and MACs follow from the actual shapes:
 * Conv numel(out) * Cin/g * kh * kw; MatMul/Gemm numel(out) * K; LSTM T * dirs * 4H * (K + H).
 */
async function countMacs(path: string, t: number): Promise<void> {
  const model = onnx.ModelProto.decode(readFileSync(path));
  const g = model.graph!;
  const byName = new Map(g.initializer!.map((i) => [i.name!, i.dims!.map(Number)]));
  const heavy = g.node!.filter((n) => ['Conv', 'MatMul', 'Gemm', 'LSTM'].includes(n.opType!));
  // Every tensor whose shape we need: inputs 0 and 1 and output 0 of each heavy node.
  const want = new Set<string>();
  for (const n of heavy) {
    for (const x of [n.input![0], n.input![1], n.output![0]]) if (x && !byName.has(x)) want.add(x);
  }
  const outputs = new Set(g.output!.map((o) => o.name));
  for (const name of want) if (!outputs.has(name)) g.output!.push({ name, type: { tensorType: { elemType: FLOAT } } });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), sessionOptions(2));
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of inputSpecs(model, 1, t)) feeds[s.name] = new ort.Tensor('float32', new Float32Array(numel(s.dims)), s.dims);
  const out = await session.run(feeds);
  const shape = (name: string): number[] => byName.get(name) ?? (out[name]?.dims as number[] | undefined) ?? [];
  let macs = 0;
  const perOp: Record<string, number> = {};
  for (const n of heavy) {
    const x = shape(n.input![0]!);
    const w = shape(n.input![1]!);
    const y = shape(n.output![0]!);
    let m = 0;
    if (n.opType === 'Conv') m = numel(y) * (w[1] ?? 0) * (w[2] ?? 1) * (w[3] ?? 1);
    else if (n.opType === 'MatMul') m = numel(y) * (x[x.length - 1] ?? 0);
    else if (n.opType === 'Gemm') {
      const transA = n.attribute!.find((a) => a.name === 'transA')?.i;
      m = numel(y) * (Number(transA) ? (x[0] ?? 0) : (x[1] ?? 0));
    } else if (n.opType === 'LSTM') {
      // X [T, B, K], W [dirs, 4H, K], R [dirs, 4H, H]
      const h = (w[1] ?? 0) / 4;
      m = (x[0] ?? 0) * (x[1] ?? 0) * (w[0] ?? 1) * 4 * h * ((w[2] ?? 0) + h);
    }
    macs += m;
    perOp[n.opType!] = (perOp[n.opType!] ?? 0) + m;
  }
  emit({ kind: 'macs', model: basename(path), path, t, macs, gflopsPerRun: (2 * macs) / 1e9, perOp, inputs: inputSpecs(model, 1, t) });
}

/** ms per frame of a backbone (or ms per clip of a head) in onnxruntime-node, at the given batch. */
async function timeModel(path: string, threads: number, batch: number, t: number, runs: number): Promise<void> {
  const model = onnx.ModelProto.decode(readFileSync(path));
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(path, sessionOptions(threads));
  const createMs = performance.now() - t0;
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of inputSpecs(model, batch, t))
    feeds[s.name] = new ort.Tensor(
      'float32',
      Float32Array.from({ length: numel(s.dims) }, () => Math.random()),
      s.dims,
    );
  const times = await timeRuns(() => session.run(feeds), 3, runs);
  emit({
    kind: 'ort-node',
    model: basename(path),
    path,
    threads,
    batch,
    t,
    ortVersion: (ort.env as { versions?: { common?: string } }).versions?.common ?? null,
    sessionCreateMs: createMs,
    msPerRun: stats(times),
    msPerItem: stats(times.map((x) => x / batch)),
  });
}

const [cmd, ...args] = process.argv.slice(2);
try {
  if (cmd === 'flops') {
    for (const th of [1, 2]) await flopRate(th);
  } else if (cmd === 'macs') {
    await countMacs(args[0]!, Number(args[1] ?? 32));
  } else if (cmd === 'time') {
    await timeModel(args[0]!, Number(args[1] ?? 2), Number(args[2] ?? 1), Number(args[3] ?? 32), Number(args[4] ?? 20));
  } else {
    throw new Error(`usage: native.ts flops | macs MODEL [T] | time MODEL THREADS BATCH [T] [RUNS]`);
  }
} catch (e) {
  emit({ kind: 'error', cmd, args, message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
}
