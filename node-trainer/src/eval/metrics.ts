/** Classification metrics on plain arrays: accuracy, confusion matrix, per-class precision/recall/F1, macro-F1. */

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: ClassScores[];
}

/** Metrics for integer labels and predictions in [0, classes). Macro-F1 averages over classes present in truth or prediction. */
export function classificationMetrics(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): ClassificationMetrics {
  if (truth.length !== pred.length) throw new RangeError(`${truth.length} labels, ${pred.length} predictions`);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    confusion[truth[i]!]![pred[i]!]!++;
    if (truth[i] === pred[i]) correct++;
  }
  const perClass: ClassScores[] = [];
  let f1Sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
    // A class absent from both truth and predictions says nothing about the model: leave it out.
    if (support || predicted) {
      f1Sum += f1;
      present++;
    }
  }
  return { accuracy: truth.length ? correct / truth.length : 0, macroF1: present ? f1Sum / present : 0, confusion, perClass };
}
