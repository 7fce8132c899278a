/**
 * Calibration and the out-of-distribution threshold, on plain arrays, using src/core's softmax,
 * meanProbs and oodScore so the numbers mean exactly what the browser computes.
 */
import { argmax, meanProbs, oodScore, softmax } from '../../../src/core/postprocess.ts';

/** Ensemble probabilities at temperature T: the mean over members of softmax(logits / T) (as core/postprocess). */
export function ensembleProbs(memberLogits: ArrayLike<number>[][], clip: number, temperature: number): number[] {
  return meanProbs(memberLogits.map((m) => softmax(m[clip]!, temperature)));
}

/** Mean negative log-likelihood of the labels at temperature T. */
export function nllAt(memberLogits: ArrayLike<number>[][], labels: ArrayLike<number>, temperature: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(1e-12, ensembleProbs(memberLogits, i, temperature)[labels[i]!]!));
  return s / Math.max(1, labels.length);
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
