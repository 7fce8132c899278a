/**
 * Head outputs of every ensemble member and TTA view -> the verdict part of a `Result`.
 * One implementation for the browser's infer worker and `vidkind classify`.
 */
import { VidkindError } from './errors';
import type { EnsembleEntry, Manifest } from './manifest';
import { argmax, labelProbs, meanAttention, meanProbs, oodScore, segmentTimeline, softmax, type Segment } from './postprocess';
import type { SegmentWindow } from './sampling';
import { CLASS_IDS, type ClassId } from './taxonomy';

/** One head run on one view of the frames. */
export interface HeadViewOutput {
  logits: ArrayLike<number>;
  subLogits?: ArrayLike<number>;
  /** Attention-pooling weights over the T frames. */
  attention?: ArrayLike<number>;
}

/** Everything one ensemble member produced for a file. */
export interface MemberOutput {
  headId: string;
  /** One entry per TTA view (just one when TTA is off). */
  views: HeadViewOutput[];
  /** Class logits of the head run on each segment window (unaugmented view). */
  windowLogits: ArrayLike<number>[];
}

export interface Verdict {
  label: ClassId;
  confidence: number;
  probs: Record<ClassId, number>;
  subclass?: { id: string; p: number };
  ood: { score: number; inDistribution: boolean };
  segments: Segment[];
  attention: number[];
}

/** Combines member and view outputs: calibrated softmax per output, mean over views, then over members. */
export function buildVerdict(manifest: Manifest, ensemble: EnsembleEntry, members: MemberOutput[], windows: SegmentWindow[]): Verdict {
  if (members.length === 0) throw new VidkindError('inference-failed', 'No model produced an output.');
  const T = ensemble.temperature;
  const memberProbs = members.map((m) => meanProbs(m.views.map((v) => softmax(v.logits, T))));
  const probsArr = meanProbs(memberProbs);
  const best = argmax(probsArr);
  const label = CLASS_IDS[best]!;
  const probs = labelProbs(CLASS_IDS, probsArr) as Record<ClassId, number>;
  const score = oodScore(probsArr);

  let subclass: Verdict['subclass'];
  const subViews = members.flatMap((m) => {
    const head = manifest.heads.find((h) => h.id === m.headId);
    return head ? m.views.filter((v) => v.subLogits).map((v) => ({ keys: head.subclasses, p: softmax(v.subLogits!, T) })) : [];
  });
  if (subViews.length > 0) {
    const keys = subViews[0]!.keys;
    const subProbs = meanProbs(subViews.map((s) => s.p));
    const inClass = keys.map((k, i) => ({ k, p: subProbs[i]! })).filter((e) => e.k.startsWith(`${label}/`));
    const mass = inClass.reduce((a, e) => a + e.p, 0);
    if (inClass.length > 0 && mass > 0) {
      const top = inClass.reduce((a, b) => (b.p > a.p ? b : a));
      subclass = { id: top.k.slice(label.length + 1), p: top.p / mass };
    }
  }

  const attentions = members.flatMap((m) => m.views.slice(0, 1).flatMap((v) => (v.attention ? [v.attention] : [])));
  const haveWindows = windows.length > 0 && members.every((m) => m.windowLogits.length === windows.length);
  const windowProbs = haveWindows ? windows.map((_, w) => meanProbs(members.map((m) => softmax(m.windowLogits[w]!, T)))) : [];
  return {
    label,
    confidence: probsArr[best]!,
    probs,
    subclass,
    ood: { score, inDistribution: score <= ensemble.oodThreshold },
    segments: haveWindows ? segmentTimeline(windows, windowProbs, CLASS_IDS) : [],
    attention: attentions.length > 0 ? meanAttention(attentions) : [],
  };
}
