/**
 * onnxruntime-web sessions for backbones and heads, on the provider chosen in `configure`.
 *
 * Head placement. FACTS warned that the WebGPU provider had no LSTM kernel until mid-2026 (LSTM
 * nodes fell back to the CPU provider). Checked with onnxruntime-web 1.30 in Chromium 156 on the
 * SwiftShader adapter: a test head (bidirectional ONNX LSTM, MatMul, Softmax pooling) created with
 * `logSeverityLevel: 0` logged "VerifyEachNodeIsAssignedToAnEp: All nodes placed on
 * [WebGpuExecutionProvider]. Number of nodes: 18" and ran an "LstmCell" WebGPU program per time step;
 * its outputs matched the WASM provider to 3e-7. The head graph of `vidkind export` (projection +
 * LayerNormalization, 4 bidirectional LSTM layers, multi-head self-attention, attention pooling)
 * logged "All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 48" and matched WASM to
 * 3e-6 in logits. So 1.30 runs the LSTM on WebGPU without CPU fallback.
 *
 * But on a real GPU that is slower: the LSTM is one small program per time step and direction. The
 * same provider (onnxruntime-node 1.30 bundles it, with the same kernels) measured on an NVIDIA H200
 * (bench/gpu-native.ts, bench/RESULTS.md): the default head on [3, 16, D] took 30 ms per run on
 * WebGPU (about 0.45 s for the first, compiling its programs) against about 3 ms on one CPU
 * thread, while the backbone took 0.5 ms per frame on WebGPU against 12 ms. In Chromium on the
 * 2-core bench machine a clip's head runs (all views, then all segment windows) take about 20 ms on
 * WASM together. So heads run on WASM, beside a WebGPU backbone (the device notes say so). Set HEADS_ON_WEBGPU to
 * true to run them on WebGPU; `runModels({backend:'webgpu', verboseLog:true})` on the diagnostics
 * page shows where each node is placed.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web/wasm';
import { VidkindError } from '../../src/core/errors';
import type { BackboneEntry, HeadEntry } from '../../src/core/manifest';
import type { LoadedModel, Provider } from './api';

/** Whether heads run on WebGPU when the backbone does (no: see the module comment). */
export const HEADS_ON_WEBGPU = false;
export const HEAD_ON_WASM_NOTE =
  "Backbone on WebGPU, heads on WASM: the heads' LSTM runs one small GPU program per time step, slower than the CPU.";

interface Entry {
  session: InferenceSession;
  info: LoadedModel;
  sha256: string;
  /** onnxruntime-web sessions run one call at a time: calls are chained here. */
  queue: Promise<unknown>;
}

/**
 * onnxruntime-web, loaded for the backbone provider. The WebGPU build is ONNX Runtime compiled with
 * asyncify (26.8 MB of wasm); the plain WASM build (14.2 MB) has the same CPU kernels. In Chromium
 * on the 2-core bench machine, the first session (runtime start included) took 3.0 s with the plain
 * build against 5.9-6.9 s with the WebGPU one, so WebGPU's build is only loaded when a backbone runs
 * on WebGPU (heads beside it then use that build's WASM provider).
 */
type Ort = typeof import('onnxruntime-web/wasm');
let ort: Ort | undefined;

function runtime(): Ort {
  if (!ort) throw new VidkindError('internal', 'onnxruntime-web is not loaded (configure the inference worker first).');
  return ort;
}

/** A float32 tensor of the loaded runtime. */
export function float32Tensor(data: Float32Array, dims: readonly number[]): Tensor {
  return new (runtime().Tensor)('float32', data, dims);
}

export class SessionPool {
  private readonly sessions = new Map<string, Entry>();

  constructor(
    private readonly providers: { backbone: Provider; head: Provider },
    private readonly verbose: boolean,
  ) {}

  has(id: string, sha256: string): boolean {
    return this.sessions.get(id)?.sha256 === sha256;
  }

  list(): Array<{ id: string; sha256: string }> {
    return [...this.sessions.entries()].map(([id, e]) => ({ id, sha256: e.sha256 }));
  }

  /** Creates (or replaces) the session for a manifest entry; bytes must already be verified. */
  async create(kind: 'backbone' | 'head', entry: BackboneEntry | HeadEntry, bytes: Uint8Array): Promise<LoadedModel> {
    const provider = kind === 'backbone' ? this.providers.backbone : this.providers.head;
    const t0 = performance.now();
    let session: InferenceSession;
    try {
      session = await runtime().InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        // 0 = verbose: prints which provider each node is placed on.
        logSeverityLevel: this.verbose ? 0 : 3,
        logVerbosityLevel: this.verbose ? 1 : 0,
      });
    } catch (e) {
      throw new VidkindError(
        'model-load',
        `The ${kind} "${entry.id}" could not be loaded on ${provider}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const old = this.sessions.get(entry.id);
    if (old) await old.session.release();
    const info: LoadedModel = {
      id: entry.id,
      kind,
      provider,
      createMs: performance.now() - t0,
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
    };
    this.sessions.set(entry.id, { session, info, sha256: entry.sha256, queue: Promise.resolve() });
    return info;
  }

  /**
   * Runs a session with its calls serialised. `ms` is the run alone, timed inside the queue, so a
   * call that waited for earlier ones does not count their time (frames are embedded while decoding).
   */
  run(id: string, feeds: Record<string, Tensor>): Promise<{ outputs: InferenceSession.OnnxValueMapType; ms: number }> {
    const e = this.sessions.get(id);
    if (!e) return Promise.reject(new VidkindError('inference-failed', `Model "${id}" is not loaded.`));
    const next = e.queue.then(async () => {
      try {
        const t0 = performance.now();
        const outputs = await e.session.run(feeds);
        return { outputs, ms: performance.now() - t0 };
      } catch (err) {
        throw new VidkindError('inference-failed', `Model "${id}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    e.queue = next.catch(() => undefined);
    return next;
  }

  async releaseAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((e) => e.queue.then(() => e.session.release())));
  }
}

/**
 * Loads the runtime for the backbone provider and sets its WASM threads, which are fixed when it
 * first starts: call once, before any session exists.
 */
export async function configureRuntime(backboneProvider: Provider, threads: number, verbose: boolean): Promise<void> {
  const loaded = backboneProvider === 'webgpu' ? ((await import('onnxruntime-web/webgpu')) as Ort) : await import('onnxruntime-web/wasm');
  loaded.env.wasm.numThreads = threads;
  loaded.env.logLevel = verbose ? 'verbose' : 'warning';
  ort = loaded;
}
