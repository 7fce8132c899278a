/**
 * A manifest backbone executed by onnxruntime-node: RGBA frames in (preprocessed by src/core, the
 * same code as the browser), one feature vector per frame out. Frames go through in batches when
 * the model's batch dimension is dynamic; the model's bytes are checked against the manifest first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VidkindError } from '../../../src/core/errors.ts';
import { verifyModelBytes, type BackboneEntry } from '../../../src/core/manifest.ts';
import { frameTensorSize, frameToTensor, type InputSpec, type RgbaFrame, type ViewSpec } from '../../../src/core/preprocess.ts';

/**
 * onnxruntime-node's execution providers: 'cpu'; 'cuda' (its provider library is a separate
 * download); 'webgpu', bundled in onnxruntime-node 1.30 on Linux x64 (and Windows, macOS): ONNX
 * Runtime's WebGPU provider, the same C++ and WGSL kernels the browser runs, on Dawn, which reaches
 * the GPU through Vulkan on Linux. No extra install, any Vulkan GPU.
 */
export type Device = 'cpu' | 'cuda' | 'webgpu';
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu'];

export interface BackboneOptions {
  device?: Device;
  /** Frames per session run (when the model accepts a dynamic batch). */
  batchSize?: number;
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  threads?: number;
}

export interface BackboneSession {
  entry: BackboneEntry;
  device: Device;
  /** Frames per run actually used (1 when the model's batch dimension is fixed). */
  batchSize: number;
  /** Features of each frame, [frames.length, entry.output.dim] row-major. */
  embed(frames: RgbaFrame[], view?: ViewSpec): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The manifest entry's input description in src/core's terms. */
export function inputSpecOf(entry: BackboneEntry): InputSpec {
  return {
    width: entry.input.width,
    height: entry.input.height,
    layout: entry.input.layout,
    range: entry.input.range,
    mean: entry.input.mean,
    std: entry.input.std,
  };
}

/** Whether onnxruntime-node's CUDA provider library is installed next to its binding. */
export function cudaProviderInstalled(): boolean {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', `napi-v6`, process.platform, process.arch);
    return existsSync(join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

const WEBGPU_HELP =
  "onnxruntime-node's WebGPU provider found no usable GPU adapter (on Linux it needs a Vulkan driver for the GPU, e.g. the " +
  'NVIDIA, AMD or Intel driver, and the Vulkan loader libvulkan1); use --device cpu otherwise';

const CUDA_HELP =
  'The CUDA provider of onnxruntime-node is not installed (this repository skips its download in .npmrc). ' +
  'On a machine with CUDA 12, run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`, or use --device cpu.';

/** Loads a backbone listed in the manifest from `modelsDir`, verifying its sha256. */
export async function openBackbone(modelsDir: string, entry: BackboneEntry, opts: BackboneOptions = {}): Promise<BackboneSession> {
  const device = opts.device ?? 'cpu';
  const file = join(modelsDir, entry.file);
  if (!existsSync(file)) throw new VidkindError('model-load', `Backbone file ${file} (${entry.id}) does not exist.`);
  const bytes = readFileSync(file);
  await verifyModelBytes(entry, bytes);
  if (device === 'cuda' && !cudaProviderInstalled()) throw new VidkindError('model-load', CUDA_HELP);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [device],
      intraOpNumThreads: opts.threads ?? 0,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const help = device === 'cuda' ? CUDA_HELP : device === 'webgpu' ? WEBGPU_HELP : `Cannot load backbone ${entry.id}`;
    throw new VidkindError('model-load', `${help} (${msg})`);
  }
  const meta = session.inputMetadata.find((m) => m.name === entry.input.name);
  if (!meta) throw new VidkindError('model-load', `Backbone ${entry.id} has no input named "${entry.input.name}".`);
  if (!session.outputNames.includes(entry.output.name))
    throw new VidkindError('model-load', `Backbone ${entry.id} has no output named "${entry.output.name}".`);
  const first = meta.isTensor ? meta.shape[0] : undefined;
  const batchSize = typeof first === 'number' && first > 0 ? first : Math.max(1, opts.batchSize ?? 8);
  const spec = inputSpecOf(entry);
  const frameSize = frameTensorSize(spec);
  const dim = entry.output.dim;
  const dims = (n: number) => (spec.layout === 'NHWC' ? [n, spec.height, spec.width, 3] : [n, 3, spec.height, spec.width]);

  return {
    entry,
    device,
    batchSize,
    async embed(frames, view = {}) {
      const out = new Float32Array(frames.length * dim);
      // A fixed-batch model gets its full batch; the padding rows are computed and dropped.
      const rowsFor = (n: number) => (typeof first === 'number' && first > 0 ? first : n);
      const prepare = (start: number) => {
        const n = Math.min(batchSize, frames.length - start);
        const rows = rowsFor(n);
        const input = new Float32Array(rows * frameSize);
        for (let i = 0; i < n; i++) frameToTensor(frames[start + i]!, spec, view, input, i);
        return { start, n, rows, input };
      };
      const run = async (b: ReturnType<typeof prepare>) => {
        let result: ort.InferenceSession.ReturnType;
        try {
          result = await session.run({ [entry.input.name]: new ort.Tensor('float32', b.input, dims(b.rows)) });
        } catch (e) {
          throw new VidkindError('inference-failed', `Backbone ${entry.id} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        const y = result[entry.output.name]!.data as Float32Array;
        if (y.length !== b.rows * dim)
          throw new VidkindError(
            'inference-failed',
            `Backbone ${entry.id} returned ${y.length} values for ${b.rows} frames, expected ${b.rows * dim}.`,
          );
        out.set(y.subarray(0, b.n * dim), b.start * dim);
      };
      // onnxruntime runs a batch on its own threads while this thread preprocesses the next one.
      let pending: Promise<void> | undefined;
      try {
        for (let start = 0; start < frames.length; start += batchSize) {
          const batch = prepare(start);
          if (pending) await pending;
          pending = run(batch);
        }
        await pending;
      } catch (e) {
        await pending?.catch(() => undefined); // never leave a run's rejection unhandled
        throw e;
      }
      return out;
    },
    release: () => session.release(),
  };
}
