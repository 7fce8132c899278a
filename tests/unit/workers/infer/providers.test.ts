import { describe, expect, it } from 'vitest';
import { chooseProvider, providerLabel, wasmThreads } from '../../../../workers/infer/providers';

const hw = { adapter: true, fallbackAdapter: false, crossOriginIsolated: true, cores: 8 };

describe('chooseProvider', () => {
  it('auto takes WebGPU only on a real (non-fallback) adapter', () => {
    expect(chooseProvider('auto', hw).provider).toBe('webgpu');
    expect(chooseProvider('auto', { ...hw, fallbackAdapter: true }).provider).toBe('wasm');
    expect(chooseProvider('auto', { ...hw, adapter: false }).provider).toBe('wasm');
  });
  it('forcing WebGPU uses even a fallback adapter, but not a missing one', () => {
    expect(chooseProvider('webgpu', { ...hw, fallbackAdapter: true }).provider).toBe('webgpu');
    const none = chooseProvider('webgpu', { ...hw, adapter: false });
    expect(none.provider).toBe('wasm');
    expect(none.note).toMatch(/no WebGPU adapter/);
  });
  it('forcing WASM ignores the GPU', () => {
    expect(chooseProvider('wasm', hw).provider).toBe('wasm');
  });
});

describe('wasmThreads', () => {
  it('leaves one core to the decoder, up to 4 threads, when cross-origin isolated', () => {
    expect(wasmThreads({ crossOriginIsolated: true, cores: 2 })).toBe(1);
    expect(wasmThreads({ crossOriginIsolated: true, cores: 4 })).toBe(3);
    expect(wasmThreads({ crossOriginIsolated: true, cores: 16 })).toBe(4);
    expect(wasmThreads({ crossOriginIsolated: true, cores: 1 })).toBe(1);
    expect(wasmThreads({ crossOriginIsolated: true, cores: 0 })).toBe(1);
  });
  it('is 1 without cross-origin isolation, whatever was asked', () => {
    expect(wasmThreads({ crossOriginIsolated: false, cores: 8 })).toBe(1);
    expect(wasmThreads({ crossOriginIsolated: false, cores: 8 }, 4)).toBe(1);
  });
  it('honours a requested count within the cap (benchmarks)', () => {
    expect(wasmThreads({ crossOriginIsolated: true, cores: 8 }, 1)).toBe(1);
    expect(wasmThreads({ crossOriginIsolated: true, cores: 2 }, 4)).toBe(2);
  });
});

describe('providerLabel', () => {
  it('says what ran', () => {
    expect(providerLabel('wasm', 'wasm', 1)).toBe('wasm (1 thread)');
    expect(providerLabel('wasm', 'wasm', 2)).toBe('wasm (2 threads)');
    expect(providerLabel('webgpu', 'webgpu', 2)).toBe('webgpu');
    expect(providerLabel('webgpu', 'wasm', 2)).toBe('webgpu backbone + wasm head (2 threads)');
  });
});
