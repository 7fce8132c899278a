/**
 * Calibration and the out-of-distribution threshold, on plain arrays, using src/core's softmax,
 * meanProbs and oodScore so the numbers mean exactly what the browser computes.
 */
import { argmax, meanProbs, oodScore, softmax } from '../../../src/core/postprocess.ts';
import { subclassDistribution } from '../../../src/core/verdict.ts';

/** Ensemble probabilities at temperature T: the mean over members of softmax(logits / T) (as core/postprocess). */
export function ensembleProbs(memberLogits: ArrayLike<number>[][], clip: number, temperature: number): number[] {
  return meanProbs(memberLogits.map((m) => softmax(m[clip]!, temperature)));
}

/** ensembleProbs of the first `clips` clips. */
export function ensembleProbsAll(memberLogits: ArrayLike<number>[][], clips: number, temperature: number): number[][] {
  return Array.from({ length: clips }, (_, i) => ensembleProbs(memberLogits, i, temperature));
}

/** Mean negative log-likelihood of the labels under the given probabilities. */
export function nll(probs: ArrayLike<number>[], labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(1e-12, probs[i]![labels[i]!]!));
  return s / Math.max(1, labels.length);
}

/** Mean negative log-likelihood of the labels at temperature T. */
export function nllAt(memberLogits: ArrayLike<number>[][], labels: ArrayLike<number>, temperature: number): number {
  return nll(ensembleProbsAll(memberLogits, labels.length, temperature), labels);
}

/** The temperature minimising validation NLL (golden-section search on log T over [0.05, 20]). */
export function fitTemperature(memberLogits: ArrayLike<number>[][], labels: ArrayLike<number>): number {
  if (labels.length === 0) return 1;
  const f = (logT: number) => nllAt(memberLogits, labels, Math.exp(logT));
  let a = Math.log(0.05);
  let b = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let k = 0; k < 60; k++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/**
 * The temperature minimising the expected calibration error of the top class (calibrationError), by
 * grid search over log T in [0.05, 20] (ECE is piecewise constant in T, so no gradient or bracket
 * search applies; 241 points are ~2.5% apart). What the app shows is the top class's confidence, and
 * this makes "80%" mean right about 80% of the time. The NLL fit (fitTemperature) is softer: on
 * vidkind's corpus whole sources are misjudged with confidence, and NLL buys those down by
 * making every answer less sure than it deserves.
 */
export function fitTemperatureEce(memberLogits: ArrayLike<number>[][], labels: ArrayLike<number>, steps = 240): number {
  if (labels.length === 0) return 1;
  return leastEceTemperature((t) => calibrationError(ensembleProbsAll(memberLogits, labels.length, t), labels).ece, steps);
}

/** The temperature of least `eceAt(T)` over `steps + 1` points spaced evenly in log T over [0.05, 20] (the first on ties). */
function leastEceTemperature(eceAt: (temperature: number) => number, steps: number): number {
  let best = 1;
  let bestEce = Infinity;
  for (let k = 0; k <= steps; k++) {
    const t = Math.exp(Math.log(0.05) + (k / steps) * (Math.log(20) - Math.log(0.05)));
    const ece = eceAt(t);
    if (ece < bestEce) {
      bestEce = ece;
      best = t;
    }
  }
  return best;
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean top-class probability of the clips in the bin. */
  confidence: number;
  /** Fraction of them classified correctly. */
  accuracy: number;
}

/** Top-label reliability bins (equal width over [0, 1]) and the expected calibration error. */
export function calibrationError(
  probs: ArrayLike<number>[],
  labels: ArrayLike<number>,
  bins = 15,
): { ece: number; bins: ReliabilityBin[] } {
  const acc = Array.from({ length: bins }, (_, i) => ({ lo: i / bins, hi: (i + 1) / bins, count: 0, confSum: 0, correct: 0 }));
  probs.forEach((p, i) => {
    const k = argmax(p);
    const conf = p[k]!;
    const b = acc[Math.min(bins - 1, Math.floor(conf * bins))]!;
    b.count++;
    b.confSum += conf;
    if (k === labels[i]) b.correct++;
  });
  const n = Math.max(1, probs.length);
  let ece = 0;
  const out = acc.map((b) => {
    const confidence = b.count ? b.confSum / b.count : 0;
    const accuracy = b.count ? b.correct / b.count : 0;
    ece += (b.count / n) * Math.abs(accuracy - confidence);
    return { lo: b.lo, hi: b.hi, count: b.count, confidence, accuracy };
  });
  return { ece, bins: out };
}

/**
 * The OOD threshold: the given percentile (default 95) of core's oodScore (normalised entropy) over
 * in-distribution validation clips, so ~5% of known-kind clips would be flagged "none of the four".
 */
export function oodThreshold(probs: ArrayLike<number>[], percentile = 95): number {
  if (probs.length === 0) return 1;
  const s = probs.map((p) => oodScore(p)).sort((a, b) => a - b);
  // Nearest-rank percentile: a threshold that really is one of the observed scores.
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((percentile / 100) * s.length) - 1));
  return s[rank]!;
}

/** A group of clips scored by one model (a cross-validation fold): each member's logits, and the labels. */
export interface LogitGroup {
  memberLogits: ArrayLike<number>[][];
  labels: ArrayLike<number>;
}

export interface PooledCalibration {
  /** Fitted (fitTemperatureEce) on every group's clips together: what a model trained the same way should use. */
  temperature: number;
  oodThreshold: number;
  oodPercentile: number;
  clips: number;
  /** Expected calibration error of the pooled clips at temperature 1. */
  eceBefore: number;
  /**
   * Cross-fitted: each group's clips at the temperature fitted on the other groups, so no clip
   * helped fit the temperature it is judged at (an honest estimate of the error on new sources).
   */
  eceAfter: number;
  /** Mean negative log-likelihood at temperature 1, and cross-fitted (as eceAfter). */
  nllBefore: number;
  nllAfter: number;
  /** Cross-fitted likewise: share of clips above the threshold taken from the other groups. */
  oodFlaggedRate: number;
  /** The temperatures fitted with one group left out, one per group. */
  leaveOneOutTemperatures: number[];
}

/**
 * Temperature and OOD threshold fitted on pooled out-of-fold predictions (every clip of a
 * cross-validation, each from a model that never saw its source) instead of one run's validation
 * split: thousands of clips rather than a hundred or two, so the fit does not swing with which
 * sources validation drew. Members are matched by index across groups.
 */
export function pooledCalibration(groups: LogitGroup[], percentile = 95): PooledCalibration {
  if (groups.length < 2) throw new RangeError('pooled calibration needs at least two groups (folds)');
  const members = groups[0]!.memberLogits.length;
  if (groups.some((g) => g.memberLogits.length !== members)) throw new RangeError('every group needs the same number of members');
  const concat = (gs: LogitGroup[]): LogitGroup => ({
    memberLogits: Array.from({ length: members }, (_, m) => gs.flatMap((g) => Array.from(g.memberLogits[m]!))),
    labels: gs.flatMap((g) => Array.from(g.labels)),
  });
  const probsAt = (g: LogitGroup, t: number) => ensembleProbsAll(g.memberLogits, g.labels.length, t);
  const all = concat(groups);
  const temperature = fitTemperatureEce(all.memberLogits, all.labels);
  const leaveOneOutTemperatures: number[] = [];
  const crossProbs: number[][] = [];
  let flagged = 0;
  groups.forEach((g, k) => {
    const rest = concat(groups.filter((_, j) => j !== k));
    const t = fitTemperatureEce(rest.memberLogits, rest.labels);
    leaveOneOutTemperatures.push(t);
    const threshold = oodThreshold(probsAt(rest, t), percentile);
    const p = probsAt(g, t);
    flagged += p.filter((q) => oodScore(q) > threshold).length;
    crossProbs.push(...p);
  });
  return {
    temperature,
    oodThreshold: oodThreshold(probsAt(all, temperature), percentile),
    oodPercentile: percentile,
    clips: all.labels.length,
    eceBefore: calibrationError(probsAt(all, 1), all.labels).ece,
    eceAfter: calibrationError(crossProbs, all.labels).ece,
    nllBefore: nllAt(all.memberLogits, all.labels, 1),
    nllAfter: nll(crossProbs, all.labels),
    oodFlaggedRate: flagged / Math.max(1, all.labels.length),
    leaveOneOutTemperatures,
  };
}

/**
 * One clip's subclass outputs: each member's raw subclass logits (`class/subclass` keys, as the
 * heads emit them), its true class and the index of its true subclass among the keys.
 */
export interface SubclassClip {
  memberSubLogits: ArrayLike<number>[];
  classId: string;
  sub: number;
}

/**
 * Each clip's subcategory probabilities within its true class at temperature T, exactly as the app
 * shows them (core's subclassWithin: members averaged, renormalised over the class's subclasses),
 * and the index of its true subclass among them. The app shows the subclass within the class it
 * chose; conditioning on the true class asks "when the class is right, how often is the subclass?".
 */
export function subclassProbsWithin(
  clips: SubclassClip[],
  keys: readonly string[],
  temperature: number,
): { probs: number[][]; labels: number[] } {
  const probs: number[][] = [];
  const labels: number[] = [];
  for (const c of clips) {
    const d = subclassDistribution(
      keys,
      c.memberSubLogits.map((l) => softmax(l, temperature)),
      c.classId,
    );
    const at = d ? d.indices.indexOf(c.sub) : -1;
    if (at < 0) continue;
    probs.push(d!.p);
    labels.push(at);
  }
  return { probs, labels };
}

/** As fitTemperatureEce, for the subclass within its class (subclassProbsWithin). */
export function fitSubclassTemperature(clips: SubclassClip[], keys: readonly string[], steps = 240): number {
  // Which clips count does not depend on T (every softmax is positive): none, nothing to fit.
  if (subclassProbsWithin(clips, keys, 1).labels.length === 0) return 1;
  return leastEceTemperature((t) => {
    const { probs, labels } = subclassProbsWithin(clips, keys, t);
    // At an extreme T a class's subclass probabilities can all underflow: no clip left to judge by.
    return labels.length > 0 ? calibrationError(probs, labels).ece : Infinity;
  }, steps);
}

export interface PooledSubclassCalibration {
  /** Fitted on every group's clips together (fitSubclassTemperature). */
  temperature: number;
  /** Clips with a known subclass. */
  clips: number;
  /** How often the top subclass within the true class is the true one (cross-fitted temperatures). */
  accuracy: number;
  /** Mean confidence shown for it and the expected calibration error, cross-fitted as the class's. */
  meanConfidence: number;
  ece: number;
  /** The same at the class temperature, as the app scaled the subclass logits before 2026-11-29. */
  atClassTemperature: { temperature: number; meanConfidence: number; ece: number };
  leaveOneOutTemperatures: number[];
}

/**
 * The subclass temperature fitted on pooled out-of-fold clips (one group per fold), judged like
 * pooledCalibration: each group at the temperature fitted without it. Null when no clip has a
 * known subclass.
 */
export function pooledSubclassCalibration(
  groups: SubclassClip[][],
  keys: readonly string[],
  classTemperature: number,
): PooledSubclassCalibration | null {
  const all = groups.flat();
  const atClass = subclassProbsWithin(all, keys, classTemperature);
  if (atClass.labels.length === 0) return null;
  const cross: number[][] = [];
  const crossLabels: number[] = [];
  const leaveOneOutTemperatures = groups.map((g, k) => {
    const t = fitSubclassTemperature(groups.filter((_, j) => j !== k).flat(), keys);
    const { probs, labels } = subclassProbsWithin(g, keys, t);
    cross.push(...probs);
    crossLabels.push(...labels);
    return t;
  });
  const meanTop = (p: number[][]) => p.reduce((a, q) => a + Math.max(...q), 0) / Math.max(1, p.length);
  return {
    temperature: fitSubclassTemperature(all, keys),
    clips: crossLabels.length,
    accuracy: cross.filter((p, i) => argmax(p) === crossLabels[i]).length / Math.max(1, cross.length),
    meanConfidence: meanTop(cross),
    ece: calibrationError(cross, crossLabels).ece,
    atClassTemperature: {
      temperature: classTemperature,
      meanConfidence: meanTop(atClass.probs),
      ece: calibrationError(atClass.probs, atClass.labels).ece,
    },
    leaveOneOutTemperatures,
  };
}
