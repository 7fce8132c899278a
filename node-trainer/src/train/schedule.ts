/**
 * Cosine annealing with warm restarts (SGDR, as torch's CosineAnnealingWarmRestarts), stepped once
 * per optimisation step: cycle i lasts t0 * tMult^i steps and falls from lrMax to lrMin.
 */
export function cosineWarmRestartLr(step: number, o: { lrMax: number; lrMin: number; t0: number; tMult: number }): number {
  if (o.t0 < 1) throw new RangeError(`t0 must be >= 1 step, got ${o.t0}`);
  let tCur = step;
  let tI = o.t0;
  // Walk the cycles: exact integer arithmetic, unlike torch's log-based closed form.
  while (tCur >= tI) {
    tCur -= tI;
    tI *= o.tMult;
  }
  return o.lrMin + ((o.lrMax - o.lrMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
}
