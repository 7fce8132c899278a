/**
 * What the manifest says about how good an ensemble is, for the person using it: its scores on the
 * held-out test clips that node-trainer's export records (test sources never seen in training), and
 * the class it is least reliable on.
 */
import { pickEnsemble, type Manifest } from '../core/manifest';
import { className, isClassId, type ClassId } from '../core/taxonomy';

export interface ModelQuality {
  clips: number;
  accuracy: number;
  macroF1: number;
  /** The class with the lowest F1, when the manifest has per-class F1 and the classes differ. */
  weakest: { name: string; f1: number } | null;
}

/** The recorded test scores of an ensemble (the default one when `ensembleId` is unset), or null. */
export function modelQuality(m: Manifest, ensembleId?: string): ModelQuality | null {
  let metrics;
  try {
    metrics = pickEnsemble(m, ensembleId).metrics;
  } catch {
    return null;
  }
  if (!metrics || metrics.clips === 0) return null;
  const perClass = Object.entries(metrics.perClassF1 ?? {}).filter((e): e is [ClassId, number] => isClassId(e[0]));
  let weakest: ModelQuality['weakest'] = null;
  if (perClass.length > 1) {
    const [id, f1] = perClass.reduce((a, b) => (b[1] < a[1] ? b : a));
    const best = Math.max(...perClass.map(([, v]) => v));
    if (f1 < best) weakest = { name: className(m.taxonomy, id), f1 };
  }
  return { clips: metrics.clips, accuracy: metrics.accuracy, macroF1: metrics.macroF1, weakest };
}
