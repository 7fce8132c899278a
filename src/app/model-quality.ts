/**
 * What the manifest says about how good an ensemble is, for the person using it: its recipe's
 * cross-validation by source (every clip of the corpus judged by a model trained the same way
 * without its source), when export recorded one, and its own scores on the held-out test clips
 * (test sources never seen in training), with the class it is least reliable on.
 */
import { chosenEnsemble, type Manifest } from '../core/manifest';
import { className, isClassId, type ClassId } from '../core/taxonomy';

export interface Scores {
  clips: number;
  accuracy: number;
  macroF1: number;
}

export interface ModelQuality {
  /** The shipped weights on their test split (a few sources per class: a rough figure). */
  test: Scores | null;
  /** The recipe cross-validated by source over the whole corpus (the steadier figure). */
  crossValidation: (Scores & { folds: number }) | null;
  /**
   * The class with the lowest F1 (the cross-validation's when recorded, else the test split's),
   * when there are per-class F1s and the classes differ.
   */
  weakest: { name: string; f1: number } | null;
}

function weakestOf(m: Manifest, perClassF1: Record<string, number> | undefined): ModelQuality['weakest'] {
  const perClass = Object.entries(perClassF1 ?? {}).filter((e): e is [ClassId, number] => isClassId(e[0]));
  if (perClass.length < 2) return null;
  const [id, f1] = perClass.reduce((a, b) => (b[1] < a[1] ? b : a));
  const best = Math.max(...perClass.map(([, v]) => v));
  return f1 < best ? { name: className(m.taxonomy, id), f1 } : null;
}

/** The recorded scores of an ensemble (the default one when `ensembleId` is unset), or null. */
export function modelQuality(m: Manifest, ensembleId?: string): ModelQuality | null {
  let entry;
  try {
    entry = chosenEnsemble(m, ensembleId);
  } catch {
    return null;
  }
  // Only a test split is "sources not used in training" in the sense the panel states; a run trained
  // on every source records its validation scores, which choose nothing but are a few sources each.
  const t = entry.metrics && entry.metrics.split === 'test' && entry.metrics.clips > 0 ? entry.metrics : undefined;
  const cv = entry.crossValidation;
  if (!t && !cv) return null;
  return {
    test: t ? { clips: t.clips, accuracy: t.accuracy, macroF1: t.macroF1 } : null,
    crossValidation: cv ? { folds: cv.folds, clips: cv.clips, accuracy: cv.accuracy, macroF1: cv.macroF1 } : null,
    weakest: weakestOf(m, cv ? cv.perClassF1 : t?.perClassF1),
  };
}
