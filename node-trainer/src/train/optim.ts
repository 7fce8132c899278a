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
  /**
   * Coupled L2: l2 * |W|^2 added to the loss of the weights with decay, i.e. 2 * l2 * W added to
   * their (clipped) gradient before the moments, so Adam normalises it with the rest (0: none).
   */
  l2?: number;
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

/** The per-step constants of AdamW (bias corrections for step `step`, 1-based). */
export interface AdamWConstants {
  beta1: number;
  beta2: number;
  stepSize: number;
  invSqrtBc2: number;
  eps: number;
  /** The factor weights with decay are multiplied by first: 1 - lr * weightDecay. */
  shrink: number;
  /** 2 * l2: the coupled L2 term's gradient per unit of weight. */
  l2Grad: number;
}

export function adamWConstants(step: number, lr: number, o: AdamWOptions): AdamWConstants {
  const bc1 = 1 - Math.pow(o.beta1, step);
  const bc2 = 1 - Math.pow(o.beta2, step);
  return {
    beta1: o.beta1,
    beta2: o.beta2,
    stepSize: lr / bc1,
    invSqrtBc2: 1 / Math.sqrt(bc2),
    eps: o.eps,
    shrink: 1 - lr * o.weightDecay,
    l2Grad: 2 * (o.l2 ?? 0),
  };
}

/** AdamW on elements [from, to) of one parameter and its gradient and moments, in place. */
export function adamWRange(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  from: number,
  to: number,
  k: AdamWConstants,
  decay: boolean,
): void {
  // Constants hoisted out of the loop: this runs every step on every parameter.
  const b1 = k.beta1;
  const b2 = k.beta2;
  const stepSize = k.stepSize;
  const invSqrtBc2 = k.invSqrtBc2;
  const eps = k.eps;
  const shrink = decay ? k.shrink : 1;
  const l2Grad = decay ? k.l2Grad : 0;
  for (let i = from; i < to; i++) {
    const gi = g[i]! + l2Grad * p[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
}

/**
 * One AdamW step in place, as torch.optim.AdamW: p -= lr*wd*p (decoupled, only where decay[i]),
 * then p -= lr * mhat / (sqrt(vhat) + eps); with `l2`, the moments see g + 2*l2*p where decay[i].
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
  const k = adamWConstants(state.step, lr, o);
  for (let q = 0; q < params.length; q++) adamWRange(params[q]!, grads[q]!, state.m[q]!, state.v[q]!, 0, params[q]!.length, k, decay[q]!);
}

/** Weight decay applies to weight matrices only, not to biases or LayerNorm gains/offsets (common practice). */
export function decaysParam(name: string): boolean {
  return /\/(kernel|recurrent|score)$/.test(name);
}
