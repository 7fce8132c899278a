/**
 * Stage probe (bench/pieces.ts): onnxruntime-web alone in a worker, on a fixed input tensor, with
 * the runtime build, threads and session options given per worker, so that each setting is timed
 * without the rest of the pipeline.
 */
export interface Setup {
  build: 'webgpu' | 'wasm';
  threads: number;
  modelUrl: string;
  batch: number;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
  spinning?: boolean;
  verbose?: boolean;
  profile?: boolean;
  /** Extra session options (e.g. enableCpuMemArena). */
  options?: Record<string, unknown>;
}
type Ort = typeof import('onnxruntime-web/wasm');
let ort: Ort;
let session: import('onnxruntime-web/wasm').InferenceSession;
let feeds: Record<string, import('onnxruntime-web/wasm').Tensor>;

self.onmessage = async (e: MessageEvent<{ op: 'setup'; setup: Setup } | { op: 'run'; runs: number }>) => {
  try {
    const m = e.data;
    if (m.op === 'setup') {
      const s = m.setup;
      ort = (s.build === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm')) as Ort;
      ort.env.wasm.numThreads = s.threads;
      if (s.verbose) ort.env.logLevel = 'verbose';
      const bytes = new Uint8Array(await (await fetch(s.modelUrl)).arrayBuffer());
      const t0 = performance.now();
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: s.optimization,
        logSeverityLevel: s.verbose ? 0 : 3,
        logVerbosityLevel: s.verbose ? 1 : 0,
        enableProfiling: s.profile ?? false,
        ...s.options,
        extra: s.spinning === undefined ? undefined : { session: { intra_op: { allow_spinning: s.spinning ? '1' : '0' } } },
      });
      const createMs = performance.now() - t0;
      const data = new Float32Array(s.batch * 224 * 224 * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
      feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [s.batch, 224, 224, 3]) };
      self.postMessage({
        ok: true,
        createMs,
        isolated: self.crossOriginIsolated,
        numThreads: ort.env.wasm.numThreads,
        simd: ort.env.wasm.simd,
        proxy: ort.env.wasm.proxy,
      });
    } else {
      const times: number[] = [];
      for (let i = 0; i < m.runs; i++) {
        const t = performance.now();
        const out = await session.run(feeds);
        times.push(performance.now() - t);
        for (const v of Object.values(out)) v.dispose();
      }
      if ((m as { profile?: boolean }).profile) session.endProfiling();
      self.postMessage({ ok: true, times });
    }
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
