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

/**
 * The subclass probabilities within `classId`: the subclass probabilities (`class/subclass` keys,
 * one array per member and view) averaged, then renormalised over the class's own subclasses.
 * Null when the class has no subclass mass. The trainer fits the subclass temperature on exactly this.
 */
export function subclassDistribution(
  keys: readonly string[],
  probs: ArrayLike<number>[],
  classId: string,
): { ids: string[]; indices: number[]; p: number[] } | null {
  if (probs.length === 0) return null;
  const mean = meanProbs(probs);
  const indices = keys.flatMap((k, i) => (k.startsWith(`${classId}/`) ? [i] : []));
  const mass = indices.reduce((a, i) => a + mean[i]!, 0);
  if (indices.length === 0 || !(mass > 0)) return null;
  return { ids: indices.map((i) => keys[i]!.slice(classId.length + 1)), indices, p: indices.map((i) => mean[i]! / mass) };
}

/** The most likely subclass of `classId` and its probability within that class (subclassDistribution). */
export function subclassWithin(
  keys: readonly string[],
  probs: ArrayLike<number>[],
  classId: string,
): { id: string; p: number } | undefined {
  const d = subclassDistribution(keys, probs, classId);
  if (!d) return undefined;
  const k = argmax(d.p);
  return { id: d.ids[k]!, p: d.p[k]! };
}

/**
 * Combines member and view outputs: calibrated softmax per output (the class temperature for the
 * class logits, the subclass temperature for the subclass logits), mean over views, then over members.
 */
export function buildVerdict(manifest: Manifest, ensemble: EnsembleEntry, members: MemberOutput[], windows: SegmentWindow[]): Verdict {
  if (members.length === 0) throw new VidkindError('inference-failed', 'No model produced an output.');
  const T = ensemble.temperature;
  const memberProbs = members.map((m) => meanProbs(m.views.map((v) => softmax(v.logits, T))));
  const probsArr = meanProbs(memberProbs);
  const best = argmax(probsArr);
  const label = CLASS_IDS[best]!;
  const probs = labelProbs(CLASS_IDS, probsArr) as Record<ClassId, number>;
  const score = oodScore(probsArr);

  const Ts = ensemble.subclassTemperature;
  const subViews = members.flatMap((m) => {
    const head = manifest.heads.find((h) => h.id === m.headId);
    return head ? m.views.filter((v) => v.subLogits).map((v) => ({ keys: head.subclasses, p: softmax(v.subLogits!, Ts) })) : [];
  });
  const subclass = subclassWithin(
    subViews[0]?.keys ?? [],
    subViews.map((s) => s.p),
    label,
  );

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
