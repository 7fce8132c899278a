/** Weights for the small ONNX CNNs the backbone tests build. */
import type { FloatWeight } from '../../src/backbone/onnx-graph.ts';

/** Deterministic pseudo-random weights (mulberry32), roughly He-scaled. */
export function weights(name: string, dims: number[], seed: number): FloatWeight {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => (rand() * 2 - 1) * Math.sqrt(6 / fanIn));
  return { name, dims, data };
}
