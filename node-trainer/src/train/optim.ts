/**
 * Global-norm gradient clipping and AdamW (decoupled weight decay, Loshchilov & Hutter), on
 * Float32Arrays in JS: exact, deterministic, and the moments are plain arrays to checkpoint.
 */

/** Global L2 norm over all gradients. */
export function globalNorm(grads: Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

/**
 * Scales all gradients in place so their global norm is at most maxNorm (torch's clip_grad_norm_);
 * returns the norm before. Pass `norm` when the caller has already computed it.
 */
export function clipByGlobalNorm(grads: Float32Array[], maxNorm: number, norm = globalNorm(grads)): number {
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i]! *= scale;
  return norm;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  /** Steps taken so far (the bias correction uses step + 1 for the next one). */
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export function newAdamWState(params: Float32Array[]): AdamWState {
  return { step: 0, m: params.map((p) => new Float32Array(p.length)), v: params.map((p) => new Float32Array(p.length)) };
}

/**
 * One AdamW step in place, as torch.optim.AdamW: p -= lr*wd*p (decoupled, only where decay[i]),
 * then p -= lr * mhat / (sqrt(vhat) + eps).
 */
export function adamWStep(
  params: Float32Array[],
  grads: Float32Array[],
  state: AdamWState,
  lr: number,
  o: AdamWOptions,
  decay: boolean[],
): void {
  state.step++;
  const bc1 = 1 - Math.pow(o.beta1, state.step);
  const bc2 = 1 - Math.pow(o.beta2, state.step);
  // Constants hoisted out of the 2M-element loop: this runs every step on every parameter.
  const b1 = o.beta1;
  const b2 = o.beta2;
  const stepSize = lr / bc1;
  const invSqrtBc2 = 1 / Math.sqrt(bc2);
  const eps = o.eps;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    const g = grads[k]!;
    const m = state.m[k]!;
    const v = state.v[k]!;
    const shrink = decay[k] ? 1 - lr * o.weightDecay : 1;
    const n = p.length;
    for (let i = 0; i < n; i++) {
      const gi = g[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }
}

/** Weight decay applies to weight matrices only, not to biases or LayerNorm gains/offsets (common practice). */
export function decaysParam(name: string): boolean {
  return /\/(kernel|recurrent|score)$/.test(name);
}
