/** What this browser offers vidkind: GPU, codecs, threads. Detected once, shown in the device panel. */

export interface Capabilities {
  webgpu: { available: boolean; adapter: string | null; fallback: boolean; shaderF16: boolean };
  webcodecs: boolean;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  /** WASM threads need cross-origin isolation and SharedArrayBuffer. */
  wasmThreads: boolean;
  cores: number;
}

/** Probes the browser; never throws (a missing feature is reported, not raised). */
export async function detectCapabilities(): Promise<Capabilities> {
  const isolated = globalThis.crossOriginIsolated === true;
  const sab = typeof SharedArrayBuffer !== 'undefined';
  const webgpu: Capabilities['webgpu'] = { available: false, adapter: null, fallback: false, shaderF16: false };
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (gpu) {
    try {
      const adapter = await gpu.requestAdapter();
      if (adapter) {
        const info = adapter.info;
        webgpu.available = true;
        webgpu.fallback = Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter);
        webgpu.adapter = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
        webgpu.shaderF16 = adapter.features.has('shader-f16');
      }
    } catch {
      // requestAdapter can reject on blocked GPUs; that simply means no WebGPU here.
    }
  }
  return {
    webgpu,
    webcodecs: typeof globalThis.VideoDecoder === 'function',
    crossOriginIsolated: isolated,
    sharedArrayBuffer: sab,
    wasmThreads: isolated && sab,
    cores: globalThis.navigator?.hardwareConcurrency ?? 1,
  };
}
