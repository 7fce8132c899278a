/**
 * Which execution provider and how many WASM threads: pure, so it is unit-tested without a browser.
 */
import type { Backend, Provider } from './api';

export interface ProviderFacts {
  /** A WebGPU adapter was returned at all. */
  adapter: boolean;
  /** The adapter is a software fallback (SwiftShader): slower than WASM for these models. */
  fallbackAdapter: boolean;
  crossOriginIsolated: boolean;
  cores: number;
}

export const MAX_WASM_THREADS = 4;

/**
 * WASM threads need SharedArrayBuffer, which browsers only give cross-origin isolated pages.
 * By default one core is left to the decoder: frames are decoded (WebCodecs' software decoder,
 * CPU-bound on long key-frame intervals) while the backbone runs, and onnxruntime's threads wait
 * on each other at every operator, so a thread that shares its core with the decoder stalls them
 * all. Measured in Chromium on 2 cores (bench/pieces.ts classify, alternating runs): the whole
 * classify of a 10 s 720p clip took 0.54x the time with 1 thread than with 2, a 60 s clip 0.81x.
 * A requested count (settings, bench) is honoured up to the cap.
 */
export function wasmThreads(facts: Pick<ProviderFacts, 'crossOriginIsolated' | 'cores'>, requested?: number): number {
  if (!facts.crossOriginIsolated) return 1;
  const cores = Math.max(1, Math.floor(facts.cores) || 1);
  const cap = Math.min(MAX_WASM_THREADS, cores);
  if (requested === undefined) return Math.max(1, Math.min(MAX_WASM_THREADS, cores - 1));
  return Math.max(1, Math.min(cap, Math.floor(requested)));
}

/** The backbone provider for a backend setting, and why (for the device panel). */
export function chooseProvider(backend: Backend, facts: ProviderFacts): { provider: Provider; note: string } {
  if (backend === 'wasm') return { provider: 'wasm', note: 'WASM chosen in settings.' };
  if (backend === 'webgpu') {
    if (!facts.adapter) return { provider: 'wasm', note: 'WebGPU was asked for but this browser offers no WebGPU adapter: using WASM.' };
    return {
      provider: 'webgpu',
      note: facts.fallbackAdapter
        ? 'WebGPU chosen in settings (software fallback adapter: slower than WASM).'
        : 'WebGPU chosen in settings.',
    };
  }
  if (!facts.adapter) return { provider: 'wasm', note: 'No WebGPU adapter: using WASM.' };
  if (facts.fallbackAdapter) return { provider: 'wasm', note: 'Only a software WebGPU adapter: WASM is faster.' };
  return { provider: 'webgpu', note: 'WebGPU on a hardware adapter.' };
}

/** The `Result.models.provider` string, e.g. "wasm (2 threads)" or "webgpu + wasm head (1 thread)". */
export function providerLabel(backbone: Provider, head: Provider, threads: number): string {
  const t = `${threads} thread${threads === 1 ? '' : 's'}`;
  if (backbone === 'wasm' && head === 'wasm') return `wasm (${t})`;
  if (backbone === 'webgpu' && head === 'webgpu') return 'webgpu';
  return `${backbone} backbone + ${head} head (${t})`;
}
