/**
 * One section of `public/models/MODEL_CARD.md` per exported ensemble, between markers so that a
 * re-export replaces its own section and leaves the rest of the card (written by people) alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BackboneEntry, EnsembleEntry, HeadEntry } from '../../../src/core/manifest.ts';
import type { CrossValidationFile } from '../eval/cross-validate.ts';
import { formatStat } from '../eval/repeated.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import type { HeadConfig } from '../head/params.ts';
import { AnchorSchema } from '../train/config.ts';
import type { ParityReport } from './parity.ts';

export const MODEL_CARD_FILE = 'MODEL_CARD.md';

export interface CardInput {
  ensemble: EnsembleEntry;
  heads: HeadEntry[];
  members: Array<{ headId: string; config: HeadConfig; meta: Record<string, unknown> }>;
  data?: { features?: string; backbone?: string; frames?: number; clips?: Record<string, number> };
  train?: Record<string, unknown>;
  runMetrics?: Record<string, unknown>;
  parity: Array<{ head: string } & ParityReport>;
  testModel: boolean;
  backbones: BackboneEntry[];
  /** `vidkind cv` of the same configuration (export --cv). */
  cv?: CrossValidationFile;
}

const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '–');

function metricsRow(name: string, m: HeadEntry['metrics']): string {
  return m ? `| ${name} | ${m.split} | ${m.clips} | ${pct(m.accuracy)} | ${pct(m.macroF1)} |` : `| ${name} | – | – | – | – |`;
}

/** Training settings that are left out of the card at 0 or false (then they are off). */
const OFF_AT_ZERO = new Set(['inputDropout', 'sourceBalance', 'classBalance', 'mixup', 'l2', 'poolStandardize', 'trainOnVal']);

/** The Markdown of one ensemble's section (without markers). */
export function cardSection(c: CardInput): string {
  const e = c.ensemble;
  const lines: string[] = [`## Ensemble \`${e.id}\` — ${e.name}`, ''];
  if (c.testModel)
    lines.push(
      '> **Test model.** Exported to exercise the pipeline (toy data or random weights); its numbers say nothing about real videos.',
      '',
    );
  lines.push('### Data', '');
  const clips = c.data?.clips;
  lines.push(
    `- Features: ${c.data?.frames ?? c.heads[0]?.frames} frames per clip, sampled evenly over the whole video (src/core/sampling), from backbone(s) ${c.backbones.map((b) => `\`${b.id}\``).join(', ')}.`,
    ...(c.data?.frames !== undefined && c.heads[0] && c.heads[0].frames !== c.data.frames
      ? [
          `- The app samples ${c.heads[0].frames} frames per video (cheaper); the metrics below score each clip on the ${c.heads[0].frames} of its ${c.data.frames} stored frames nearest those sample times.`,
        ]
      : []),
  );
  if (clips)
    lines.push(
      `- Clips: ${Object.entries(clips)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; split by source (channel, game or deck), never by clip.`,
    );
  for (const b of c.backbones)
    lines.push(
      `- Backbone \`${b.id}\` (${b.name}): ${b.provenance.source}${b.provenance.notes ? ` — ${b.provenance.notes}` : ''}; licence ${b.licence}.`,
    );
  lines.push('', '### Model', '');
  for (const m of c.members) {
    const k = m.config;
    const outputs = `${k.classes} classes${k.subclasses ? ` + ${k.subclasses} subclasses` : ''}`;
    lines.push(
      k.kind === 'stats'
        ? `- \`${m.headId}\`: per-dimension mean and standard deviation of the ${k.featureDim} features over the frames, one linear layer (${2 * k.featureDim}→${outputs}); what drove the decision: each frame's share of the logits.`
        : `- \`${m.headId}\`: projection ${k.featureDim}→${k.projDim} + LayerNorm, ${k.lstmLayers}-layer BiLSTM (hidden ${k.lstmHidden}), ${k.attnHeads}-head self-attention, attention pooling (${k.poolHidden}), ${outputs}.`,
    );
  }
  if (c.train) {
    const t = c.train;
    const lbfgs = t.solver === 'lbfgs';
    // What the L-BFGS solver does not use (train/config.ts solver) is left out for it.
    const adamOnly = new Set(['batch', 'lr', 'weightDecay', 'clipNorm', 'dropout']);
    const keys = [
      'solver',
      'epochs',
      'batch',
      'lr',
      'weightDecay',
      'l2',
      'dropout',
      'focalGamma',
      'labelSmoothing',
      'clipNorm',
      'trainFrames',
      'standardize',
      'poolStandardize',
      'inputDropout',
      'sourceBalance',
      'classBalance',
      'mixup',
      'split',
      'keep',
      'trainOnVal',
      'seed',
    ].filter(
      (k) =>
        k in t &&
        t[k] !== undefined &&
        !(OFF_AT_ZERO.has(k) && (t[k] === 0 || t[k] === false)) &&
        !(k === 'solver' && !lbfgs) &&
        !(lbfgs && adamOnly.has(k)),
    );
    const how = lbfgs
      ? 'full-batch L-BFGS from zero weights to the optimum, epochs = its most iterations'
      : 'AdamW, cosine annealing with warm restarts, focal loss';
    lines.push(`- Training: ${keys.map((k) => `${k} ${Array.isArray(t[k]) ? t[k].join('/') : String(t[k])}`).join(', ')} (${how}).`);
    // Settings of single members on top of those (train/config.ts memberConfigs); member i has seed + i.
    const own = Array.isArray(t.memberConfigs) ? (t.memberConfigs as unknown[]) : [];
    own.forEach((o, i) => {
      const entries = o && typeof o === 'object' ? Object.entries(o) : [];
      if (entries.length && c.members[i])
        lines.push(`- \`${c.members[i].headId}\` trains with its own ${entries.map(([k, v]) => memberSetting(k, v)).join(', ')}.`);
    });
  }
  lines.push('', '### Metrics', '', '| model | split | clips | accuracy | macro-F1 |', '|---|---|---|---|---|');
  lines.push(metricsRow(`ensemble \`${e.id}\``, e.metrics));
  for (const h of c.heads) if (c.heads.length > 1 || !e.metrics) lines.push(metricsRow(`head \`${h.id}\``, h.metrics));
  if (e.metrics?.split === 'val' && c.train?.trainOnVal === true)
    lines.push(
      '',
      'No held-out split: these models trained on every source, the validation ones too (trainOnVal), so the figures above are on clips they trained on and show only that the export works; the cross-validation by source is the estimate to go by.',
    );
  else if (e.metrics?.split === 'val' && c.data && 'clips' in c.data && c.data.clips?.test === 0)
    lines.push(
      '',
      'No test split: these models trained on every source but the validation ones, whose few sources per class make the figures above rough and optimistic; the cross-validation by source is the estimate to go by.',
    );
  const fromCv = c.runMetrics?.calibratedOn === 'cross-validation';
  const calClips = typeof c.runMetrics?.calibrationClips === 'number' ? `${c.runMetrics.calibrationClips} ` : '';
  const fitted =
    c.runMetrics?.temperature === undefined
      ? 'not fitted: the run was not evaluated (`vidkind eval`) before export'
      : fromCv
        ? `both fitted on the ${calClips}held-out clips of the cross-validation below (\`vidkind eval --calibration\`)`
        : `both fitted on the run's ${calClips}validation clips`;
  lines.push(
    '',
    `Calibration temperature ${e.temperature}; out-of-distribution threshold ${e.oodThreshold} on normalised entropy; ${fitted}. Subcategory temperature ${e.subclassTemperature} (the subcategory's confidence within its class, fitted apart from the class's).`,
  );
  const perClass = c.runMetrics?.perClass ?? (c.runMetrics?.test as Record<string, unknown> | undefined)?.perClass;
  if (perClass && typeof perClass === 'object') lines.push('', `Per-class: \`${JSON.stringify(perClass)}\``);
  if (c.cv) lines.push('', ...cvLines(c.cv));
  lines.push('', '### Export parity', '');
  for (const p of c.parity)
    lines.push(
      `- \`${p.head}\`: max difference from the reference forward (relative where an output exceeds 1) — onnxruntime-node ${p.maxAbsDiff.onnxruntimeNode.toExponential(1)}, onnxruntime-web (WASM) ${p.maxAbsDiff.onnxruntimeWeb.toExponential(1)}, tfjs ${p.maxAbsDiff.tfjs === null ? 'not run' : p.maxAbsDiff.tfjs.toExponential(1)} (bound ${p.tolerance}; T ∈ {${p.cases.map((x) => x.t).join(', ')}}).`,
    );
  return lines.join('\n') + '\n';
}

/** The pooled calibration's figures, each clip judged at a temperature and threshold fitted without its fold. */
function calibrationLine(k: NonNullable<CrossValidationFile['calibration']>): string {
  const v = k.validationFitted;
  const sub = k.subclass;
  const subLine = sub
    ? ` Subcategory within its class, on the ${sub.clips} clips with a known one: temperature ${sub.temperature.toFixed(3)} (without one fold: ${Math.min(...sub.leaveOneOutTemperatures).toFixed(2)}–${Math.max(...sub.leaveOneOutTemperatures).toFixed(2)}); judged likewise, right ${pct(sub.accuracy)} of the time at a mean confidence of ${pct(sub.meanConfidence)}, expected calibration error ${sub.ece.toFixed(3)} (at the class temperature, as the app scaled it before 2026-11-29: mean confidence ${pct(sub.atClassTemperature.meanConfidence)}, error ${sub.atClassTemperature.ece.toFixed(3)}).`
    : '';
  return `- Calibration on the pooled held-out clips: temperature ${k.temperature.toFixed(3)} (without one fold: ${Math.min(...k.leaveOneOutTemperatures).toFixed(2)}–${Math.max(...k.leaveOneOutTemperatures).toFixed(2)}); judged at the temperature and threshold fitted without each clip's fold, expected calibration error ${k.eceBefore.toFixed(3)} → ${k.eceAfter.toFixed(3)}, log-loss ${k.nllAfter.toFixed(3)}, ${pct(k.oodFlaggedRate)} flagged out of distribution (each fold's own validation split gave temperatures ${v.temperature.min.toFixed(2)}–${v.temperature.max.toFixed(2)}: error ${v.eceAfter.toFixed(3)}, log-loss ${v.nllAfter.toFixed(3)}, ${pct(v.oodFlaggedRate)} flagged).${subLine}`;
}

/** The card's cross-validation subsection: pooled figures, per class, confusion, the folds' spread, the worst sources. */
function cvLines(cv: CrossValidationFile, worst = 8): string[] {
  const lines = [
    '### Cross-validation by source',
    '',
    `\`vidkind cv\`, ${cv.folds} folds of the sources (stratified by class), ${cv.members > 1 ? `${cv.members} heads per fold, ` : ''}the same training settings, scored on ${cv.frames} frames per clip: each of the ${cv.clips} clips is predicted once, by a model that never saw its source${cv.predictedAt === 'other-folds' ? ", at the temperature fitted on the other folds' held-out clips (its validation clips were trained on)" : ''}.`,
    '',
    `- Pooled: accuracy ${pct(cv.accuracy)}, macro-F1 ${cv.macroF1.toFixed(3)}.`,
    `- Per fold macro-F1: ${formatStat(cv.foldMacroF1)}.`,
    `- F1 per class: ${cv.classes.map((k) => `${k} ${cv.perClass[k]?.f1.toFixed(3) ?? '–'}`).join(', ')}.`,
    ...(cv.calibration ? [calibrationLine(cv.calibration)] : []),
    '',
    `| true \\ predicted | ${cv.classes.join(' | ')} |`,
    `|---|${cv.classes.map(() => '---').join('|')}|`,
    ...cv.confusion.map((row, i) => `| ${cv.classes[i]} | ${row.join(' | ')} |`),
    '',
    `Sources with the fewest clips right (of ${cv.perSource.length}):`,
    '',
    ...cv.perSource.slice(0, worst).map(
      (s) =>
        `- \`${s.source}\` (${s.class}): ${s.correct}/${s.clips}; taken for ${
          Object.entries(s.predicted)
            .filter(([k, n]) => n > 0 && k !== s.class)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || '–'
        }.`,
    ),
  ];
  return lines;
}

/** Replaces (or appends) the ensemble's section of MODEL_CARD.md. */
export function updateModelCard(modelsDir: string, c: CardInput): void {
  const file = join(modelsDir, MODEL_CARD_FILE);
  const begin = `<!-- vidkind export: ${c.ensemble.id} -->`;
  const end = `<!-- /vidkind export: ${c.ensemble.id} -->`;
  const block = `${begin}\n${cardSection(c)}${end}\n`;
  const text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# vidkind model card\n\nWhat each model shipped in this directory was trained on, and how well it does.\n\n';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const next = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length + 1) : text.replace(/\n*$/, '\n\n') + block;
  writeFileAtomic(file, next);
}

/**
 * One member setting as the card words it. An anchor (train/anchor.ts) names its head and the
 * models folder's name, not its path on the machine that trained.
 */
function memberSetting(key: string, value: unknown): string {
  const anchor = key === 'anchor' ? AnchorSchema.safeParse(value) : undefined;
  if (anchor?.success)
    return `start from head \`${anchor.data.head}\` of the models folder "${basename(anchor.data.models)}" (its weights plus a learnt difference that weight decay keeps small)`;
  return `${key} ${value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
}
