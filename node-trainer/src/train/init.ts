/** Seeded weight initialisation of the head (Glorot uniform kernels, forget-gate bias 1, LayerNorm 1/0). */
import { headParamShapes, type HeadConfig, type HeadWeights } from '../head/params.ts';
import type { Rng } from './rng.ts';

/** Fresh weights for `c`, drawn from `rng` in headParamShapes order (so a seed fixes them). */
export function initHeadWeights(c: HeadConfig, rng: Rng): HeadWeights {
  const w: HeadWeights = new Map();
  for (const { name, shape } of headParamShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = new Float32Array(size);
    if (/\/(kernel|recurrent|score)$/.test(name)) {
      // Glorot uniform with Keras fans ([in, out]); also used for the recurrent matrices.
      const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
      for (let i = 0; i < size; i++) t[i] = rng.uniform(-limit, limit);
    } else if (name.endsWith('/gamma')) t.fill(1);
    else if (/^lstm\d+\/(fw|bw)\/bias$/.test(name)) {
      // Forget-gate bias 1 (Jozefowicz et al.): the second of the i, f, c, o blocks.
      const H = size / 4;
      t.fill(1, H, 2 * H);
    }
    w.set(name, t);
  }
  return w;
}
