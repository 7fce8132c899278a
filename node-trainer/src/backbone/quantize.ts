/**
 * How float weights are stored in the ONNX file. Every scheme stores weights compactly and turns
 * them back into float32 with plain Cast / Mul / Add nodes: onnxruntime-web runs those on WASM and
 * WebGPU alike (no QLinear kernels, no shader-f16 needed), and onnxruntime folds them into float
 * constants when the session is created, so inference runs at fp32 speed.
 *
 * - uint8: affine per output channel, w = q * scale[c] + min[c]; a weight that came from TF.js on a
 *   uint8 grid keeps that exact grid (per tensor), so nothing is lost twice.
 * - int8: symmetric per output channel, w = q * scale[c] (a TF.js uint8 grid is kept exactly, shifted).
 * - fp16: IEEE half, Cast to float.
 * Small tensors (biases, BatchNorm statistics, scalars) stay float32: they are a few KB.
 */
import { DataType, attr, floatTensor, node, rawTensor, type FloatWeight, type NodeProto, type TensorProto } from './onnx-graph.ts';

export type Quantization = 'none' | 'uint8' | 'int8' | 'fp16';
export const QUANTIZATIONS: Quantization[] = ['none', 'uint8', 'int8', 'fp16'];

/** Weights with fewer elements than this stay float32. */
const MIN_QUANTIZED = 256;

/** float32 -> IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const u = new Uint32Array(f32.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** Per-output-channel view: channel c holds elements [c*inner, (c+1)*inner). */
function channels(w: FloatWeight): { count: number; inner: number } {
  const count = w.dims.length >= 2 ? w.dims[0]! : 1;
  return { count, inner: w.data.length / count };
}

/**
 * The uint8 grid a float tensor already lies on, if any (<= 256 evenly spaced values): true of
 * weights that were 8-bit before (a vidkind export re-imported, a TF.js model exported to ONNX).
 */
export function detectGrid(data: Float32Array): { min: number; scale: number } | undefined {
  const distinct = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    distinct.add(data[i]!);
    if (distinct.size > 256) return undefined;
  }
  const values = [...distinct].sort((a, b) => a - b);
  if (values.length < 2) return undefined;
  let step = Infinity;
  for (let i = 1; i < values.length; i++) step = Math.min(step, values[i]! - values[i - 1]!);
  const min = values[0]!;
  // Refine the step from the extreme values: the smallest gap carries the most float rounding.
  const top = Math.round((values.at(-1)! - min) / step);
  if (top > 255) return undefined;
  const scale = (values.at(-1)! - min) / top;
  for (const v of values) {
    const k = (v - min) / scale;
    if (Math.abs(k - Math.round(k)) > 1e-2) return undefined;
  }
  return { min, scale };
}

/** Initialisers and dequantisation nodes that produce every weight under its own name as float32. */
export function storeWeights(weights: FloatWeight[], q: Quantization): { initializers: TensorProto[]; nodes: NodeProto[] } {
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  for (let w of weights) {
    // Only kernels are quantised (rank >= 2, or a 1-D tensor already on a uint8 grid): per-channel
    // statistics such as BatchNorm variances are too sensitive to share one 8-bit range.
    if ((q === 'uint8' || q === 'int8') && !w.grid && w.data.length >= MIN_QUANTIZED) {
      const grid = detectGrid(w.data);
      if (grid) w = { ...w, grid };
    }
    const kernel = w.dims.length >= 2 || ((q === 'uint8' || q === 'int8') && w.grid !== undefined);
    if (q === 'none' || !kernel || w.data.length < MIN_QUANTIZED) {
      initializers.push(floatTensor(w.name, w.data, w.dims));
      continue;
    }
    const stored = `${w.name}/q`;
    const cast = `${w.name}/f`;
    if (q === 'fp16') {
      const h = new Uint16Array(w.data.length);
      for (let i = 0; i < h.length; i++) h[i] = floatToHalf(w.data[i]!);
      initializers.push(rawTensor(stored, DataType.FLOAT16, h, w.dims));
      nodes.push(node('Cast', [stored], [w.name], `${w.name}/dequant`, [attr.int('to', DataType.FLOAT)]));
      continue;
    }
    const scaleDims = w.dims.map((d, i) => (i === 0 ? d : 1));
    if (q === 'uint8') {
      const u = new Uint8Array(w.data.length);
      let scale: Float32Array;
      let min: Float32Array;
      let dims: number[];
      if (w.grid && w.grid.scale > 0) {
        // Already on a uint8 grid (TF.js): keep it, so the stored bytes are the source's own.
        scale = new Float32Array([w.grid.scale]);
        min = new Float32Array([w.grid.min]);
        dims = [];
        for (let i = 0; i < u.length; i++) u[i] = Math.min(255, Math.max(0, Math.round((w.data[i]! - w.grid.min) / w.grid.scale)));
      } else {
        const { count, inner } = channels(w);
        scale = new Float32Array(count);
        min = new Float32Array(count);
        dims = scaleDims;
        for (let c = 0; c < count; c++) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let i = c * inner; i < (c + 1) * inner; i++) {
            lo = Math.min(lo, w.data[i]!);
            hi = Math.max(hi, w.data[i]!);
          }
          // Zero must be exactly representable (zero padding, pruned weights): nudge the range so
          // that min is a whole number of steps below 0.
          lo = Math.min(lo, 0);
          hi = Math.max(hi, 0);
          const s = hi > lo ? (hi - lo) / 255 : 1;
          const m = -Math.round(-lo / s) * s;
          scale[c] = s;
          min[c] = m;
          for (let i = c * inner; i < (c + 1) * inner; i++) u[i] = Math.min(255, Math.max(0, Math.round((w.data[i]! - m) / s)));
        }
      }
      initializers.push(rawTensor(stored, DataType.UINT8, u, w.dims));
      initializers.push(floatTensor(`${w.name}/scale`, scale, dims), floatTensor(`${w.name}/min`, min, dims));
      nodes.push(
        node('Cast', [stored], [cast], `${w.name}/cast`, [attr.int('to', DataType.FLOAT)]),
        node('Mul', [cast, `${w.name}/scale`], [`${w.name}/scaled`], `${w.name}/mul`),
        node('Add', [`${w.name}/scaled`, `${w.name}/min`], [w.name], `${w.name}/dequant`),
      );
      continue;
    }
    if (w.grid && w.grid.scale > 0) {
      // On a TF.js uint8 grid: store q - 128 as int8, w = q8 * scale + (min + 128 * scale); exact.
      const i8 = new Int8Array(w.data.length);
      for (let i = 0; i < i8.length; i++) i8[i] = Math.min(255, Math.max(0, Math.round((w.data[i]! - w.grid.min) / w.grid.scale))) - 128;
      initializers.push(
        rawTensor(stored, DataType.INT8, i8, w.dims),
        floatTensor(`${w.name}/scale`, new Float32Array([w.grid.scale]), []),
        floatTensor(`${w.name}/min`, new Float32Array([w.grid.min + 128 * w.grid.scale]), []),
      );
      nodes.push(
        node('Cast', [stored], [cast], `${w.name}/cast`, [attr.int('to', DataType.FLOAT)]),
        node('Mul', [cast, `${w.name}/scale`], [`${w.name}/scaled`], `${w.name}/mul`),
        node('Add', [`${w.name}/scaled`, `${w.name}/min`], [w.name], `${w.name}/dequant`),
      );
      continue;
    }
    // int8, symmetric per output channel.
    const { count, inner } = channels(w);
    const i8 = new Int8Array(w.data.length);
    const scale = new Float32Array(count);
    for (let c = 0; c < count; c++) {
      let m = 0;
      for (let i = c * inner; i < (c + 1) * inner; i++) m = Math.max(m, Math.abs(w.data[i]!));
      const s = m > 0 ? m / 127 : 1;
      scale[c] = s;
      for (let i = c * inner; i < (c + 1) * inner; i++) i8[i] = Math.min(127, Math.max(-127, Math.round(w.data[i]! / s)));
    }
    initializers.push(rawTensor(stored, DataType.INT8, i8, w.dims), floatTensor(`${w.name}/scale`, scale, scaleDims));
    nodes.push(
      node('Cast', [stored], [cast], `${w.name}/cast`, [attr.int('to', DataType.FLOAT)]),
      node('Mul', [cast, `${w.name}/scale`], [w.name], `${w.name}/dequant`),
    );
  }
  return { initializers, nodes };
}
