/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithm 7.4 and 7.5) with a
 * backtracking line search on the Armijo condition, for smooth objectives of a few hundred thousand
 * parameters (a linear head on clip statistics, train/solve.ts).
 *
 * Hand-written: npm's L-BFGS packages are unmaintained ports or bound to one tensor library;
 * tfjs ships first-order optimisers only. The algorithm is ~80 lines of vector loops.
 */

export interface LbfgsOptions {
  /** The most iterations (each one or more evaluations of the objective). */
  maxIterations: number;
  /** Pairs of (step, gradient change) kept: the memory of the curvature estimate. */
  memory?: number;
  /** Converged when the largest gradient component is at most this. */
  gradientTolerance?: number;
  /** Converged when an iteration lowers the objective by at most this times max(1, |f|). */
  relativeTolerance?: number;
  /** After each iteration; return false to stop there. */
  onIteration?: (it: { iteration: number; f: number; x: Float64Array; step: number }) => boolean;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** converged: a tolerance was met; max-iterations; stopped: onIteration asked; no-progress: no step lowered f. */
  reason: 'converged' | 'max-iterations' | 'stopped' | 'no-progress';
}

/** f and its gradient at x (the gradient may be a new array each call). */
export type Objective = (x: Float64Array) => { f: number; g: ArrayLike<number> };

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Minimises `objective` from `x0` (not modified). */
export function lbfgs(objective: Objective, x0: Float64Array, o: LbfgsOptions): LbfgsResult {
  const m = o.memory ?? 10;
  const gtol = o.gradientTolerance ?? 1e-5;
  const rtol = o.relativeTolerance ?? 1e-10;
  const n = x0.length;
  let x: Float64Array = Float64Array.from(x0);
  const first = objective(x);
  let f = first.f;
  let g: Float64Array = Float64Array.from(first.g);
  if (!Number.isFinite(f)) throw new Error('the objective is not finite at the starting point');
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  const maxAbs = (v: Float64Array) => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  if (maxAbs(g) <= gtol) return { x, f, iterations: 0, reason: 'converged' };
  for (let iteration = 0; iteration < o.maxIterations; iteration++) {
    // Two-loop recursion: d = -H g, H the inverse Hessian estimate from the kept pairs.
    d.set(g);
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(S[i]!, d);
      const y = Y[i]!;
      for (let j = 0; j < n; j++) d[j]! -= alpha[i]! * y[j]!;
    }
    // Initial scaling: gamma = s·y / y·y of the newest pair; before any pair, a first step of length 1.
    const gamma = S.length ? 1 / (rho[S.length - 1]! * dot(Y[S.length - 1]!, Y[S.length - 1]!)) : 1 / Math.sqrt(dot(g, g));
    for (let j = 0; j < n; j++) d[j]! *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i]! * dot(Y[i]!, d);
      const s = S[i]!;
      for (let j = 0; j < n; j++) d[j]! += (alpha[i]! - beta) * s[j]!;
    }
    for (let j = 0; j < n; j++) d[j] = -d[j]!;
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in a stale memory): forget it and go down the gradient.
      S.length = Y.length = rho.length = 0;
      const scale = 1 / Math.sqrt(dot(g, g));
      for (let j = 0; j < n; j++) d[j] = -g[j]! * scale;
      slope = dot(g, d);
    }
    // Backtracking until f drops by at least 1e-4 of what the slope promises (Armijo).
    let t = 1;
    let next: { x: Float64Array; f: number; g: ArrayLike<number> } | null = null;
    for (let tries = 0; tries < 40; tries++, t /= 2) {
      const xt = new Float64Array(n);
      for (let j = 0; j < n; j++) xt[j] = x[j]! + t * d[j]!;
      const r = objective(xt);
      if (Number.isFinite(r.f) && r.f <= f + 1e-4 * t * slope) {
        next = { x: xt, ...r };
        break;
      }
    }
    if (!next) return { x, f, iterations: iteration, reason: 'no-progress' };
    const gNext = Float64Array.from(next.g);
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = next.x[j]! - x[j]!;
      y[j] = gNext[j]! - g[j]!;
    }
    const sy = dot(s, y);
    // Keep the pair only where the curvature is positive, so H stays positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(y, y) * dot(s, s))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const drop = f - next.f;
    x = next.x;
    f = next.f;
    g = gNext;
    if (o.onIteration && !o.onIteration({ iteration, f, x, step: t })) return { x, f, iterations: iteration + 1, reason: 'stopped' };
    if (maxAbs(g) <= gtol || drop <= rtol * Math.max(1, Math.abs(f))) return { x, f, iterations: iteration + 1, reason: 'converged' };
  }
  return { x, f, iterations: o.maxIterations, reason: 'max-iterations' };
}
