import { scoreRun } from '../src/eval/evaluate.ts';
import { classificationMetrics } from '../src/eval/metrics.ts';
import { softmax, meanProbs, argmax } from '../../src/core/postprocess.ts';
import { pooledCalibration } from '../src/eval/calibration.ts';
const dirs = process.argv.slice(2);
for (const dir of dirs) {
  const L: number[] = []; const M: Float32Array[][][] = []; const groups: { memberLogits: Float32Array[][]; labels: Int32Array }[] = [];
  for (let f = 0; f < 5; f++) {
    const r = await scoreRun(`${dir}/fold-${f}`, 'test', undefined, 16);
    L.push(...r.labels); groups.push({ memberLogits: r.memberLogits, labels: r.labels });
    r.memberLogits.forEach((ml, m) => { (M[m] ??= []).push(...ml.map((x) => [x])); });
  }
  const logits = M.map((m) => m.map((x) => x[0]!));
  const f1 = (pred: number[]) => classificationMetrics(L, pred, 4).macroF1.toFixed(4);
  const line = [`${dir}:`];
  logits.forEach((ml, m) => line.push(`m${m} ${f1(ml.map((z) => argmax(z)))}`));
  for (const T of [0.25, 0.5, 1, 2]) line.push(`ens T${T} ${f1(L.map((_, i) => argmax(meanProbs(logits.map((ml) => softmax(ml[i]!, T))))))}`);
  const cal = pooledCalibration(groups);
  let off = 0; const pred: number[] = [];
  groups.forEach((g, k) => { const t = cal.leaveOneOutTemperatures[k]!; for (let i = 0; i < g.labels.length; i++) pred.push(argmax(meanProbs(g.memberLogits.map((ml) => softmax(ml[i]!, t))))); });
  line.push(`leave-fold-out T (${cal.leaveOneOutTemperatures.map((t) => t.toFixed(2)).join('/')}) ${f1(pred)}`);
  console.log(line.join('  '));
}
