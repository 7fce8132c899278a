/**
 * `vidkind export`: a training run -> ONNX head(s) in `<models>/heads/`, their HeadEntry, an
 * EnsembleEntry, and a section of MODEL_CARD.md. The parity check runs first; if it fails nothing
 * is written. Manifest writes go through manifest-file.ts (validated, atomic, versioned).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { VidkindError } from '../../../src/core/errors.ts';
import type { EnsembleEntry, HeadEntry, Manifest } from '../../../src/core/manifest.ts';
import { CLASS_IDS, flattenSubclasses } from '../../../src/core/taxonomy.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { loadHead, type HeadFile } from '../head/checkpoint.ts';
import type { HeadWeights } from '../head/params.ts';
import { pruneHeads, readManifestFile, upsertEnsemble, upsertHead, writeManifestFile } from '../manifest-file.ts';
import { readCrossValidation, type CrossValidationFile } from '../eval/cross-validate.ts';
import { TrainConfigSchema } from '../train/config.ts';
import { HEAD_IO, headToOnnx } from './head-onnx.ts';
import { updateModelCard } from './model-card.ts';
import { assertParity, checkHeadParity, type ParityReport } from './parity.ts';

const Metrics = z
  .object({ split: z.string(), clips: z.number().int().min(0), accuracy: z.number().min(0).max(1), macroF1: z.number().min(0).max(1) })
  .catchall(z.unknown());
type Metrics = z.infer<typeof Metrics>;

/** What `vidkind eval` leaves in `<run>/metrics.json` that export uses; anything else is kept for the card. */
const RunMetricsSchema = z
  .object({
    temperature: z.number().positive().optional(),
    oodThreshold: z.number().min(0).max(1).optional(),
    subclassTemperature: z.number().positive().optional(),
  })
  .catchall(z.unknown());

const RunConfigLite = z
  .object({
    data: z
      .object({ features: z.string(), backbone: z.string(), frames: z.number(), clips: z.record(z.string(), z.number()) })
      .partial()
      .optional(),
    train: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown());

const EnsembleFile = z.object({ members: z.array(z.string()).min(1) }).catchall(z.unknown());

const HistoryRecord = z.object({ epoch: z.number(), valMacroF1: z.number(), valAccuracy: z.number() }).catchall(z.unknown());

export interface ExportOptions {
  run: string;
  /** The models directory (holding manifest.json), e.g. public/models. */
  to: string;
  id?: string;
  name?: string;
  testModel?: boolean;
  makeDefault?: boolean;
  /** Include the tfjs forward pass in the parity check (default true). */
  tfjsParity?: boolean;
  /**
   * Frames the app samples per video (default: the T the heads were trained on). Fewer is cheaper;
   * the run must have been evaluated (`vidkind eval --frames`) at this count, so its metrics,
   * temperature and OOD threshold hold for it.
   */
  frames?: number;
  /**
   * A `vidkind cv` output directory (or its cv.json) for the same training config, backbones, member
   * count and frames as this run: its pooled out-of-fold figures go into the model card.
   */
  cv?: string;
  /**
   * A models directory (e.g. public/models) to start `to` from when `to` has no manifest yet: its
   * taxonomy, TTA views and segments, and the backbones this run's heads need (entries and files),
   * without its heads and ensembles, so that `to` becomes a folder of these models alone.
   */
  base?: string;
}

export interface ExportResult {
  ensemble: EnsembleEntry;
  heads: HeadEntry[];
  parity: Array<{ head: string } & ParityReport>;
  manifestVersion: string;
}

function readJson(file: string): unknown {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/**
 * The manifest's compact metrics from what `vidkind eval` writes (`metrics.json`: split, clips,
 * accuracy, macroF1, perClass, calibration, members[]), keeping only numbers a user compares, not
 * the confusion matrix, reliability bins or training histories.
 */
function compactMetrics(c: Record<string, unknown>, fallbackSplit = 'test'): Metrics | undefined {
  const parsed = Metrics.safeParse({ split: fallbackSplit, ...c });
  if (!parsed.success) return undefined;
  const { split, clips, accuracy, macroF1 } = parsed.data;
  const out: Metrics = { split, clips, accuracy, macroF1 };
  if (c.perClass && typeof c.perClass === 'object') {
    const f1 = Object.fromEntries(
      Object.entries(c.perClass as Record<string, { f1?: unknown }>).flatMap(([k, v]) => (typeof v?.f1 === 'number' ? [[k, v.f1]] : [])),
    );
    if (Object.keys(f1).length > 0) out.perClassF1 = f1;
  }
  for (const k of ['subclassAccuracy', 'eceAfter', 'oodFlaggedRate'] as const) if (typeof c[k] === 'number') out[k] = c[k];
  return out;
}

/**
 * Metrics of a run: from `<run>/metrics.json` (top level, or a `test` block), or for an ensemble
 * member its entry in the ensemble's metrics.json `members`, else the best validation epoch of
 * the run's history.json (labelled `val`).
 */
export function runMetrics(dir: string, ensembleRun?: string): Metrics | undefined {
  const m = readJson(join(dir, 'metrics.json')) as Record<string, unknown> | undefined;
  for (const cand of [m, m?.test])
    if (cand && typeof cand === 'object') {
      const r = compactMetrics(cand as Record<string, unknown>);
      if (r) return r;
    }
  if (ensembleRun && ensembleRun !== dir) {
    const em = readJson(join(ensembleRun, 'metrics.json')) as { split?: unknown; clips?: unknown; members?: unknown } | undefined;
    const member = Array.isArray(em?.members)
      ? (em.members as Array<Record<string, unknown>>).find((x) => typeof x.dir === 'string' && join(ensembleRun, x.dir) === dir)
      : undefined;
    const r = member && compactMetrics({ split: em?.split, clips: em?.clips, accuracy: member.accuracy, macroF1: member.macroF1 });
    if (r) return r;
  }
  const history = z.array(HistoryRecord).safeParse(readJson(join(dir, 'history.json')));
  if (!history.success || history.data.length === 0) return undefined;
  const best = history.data.reduce((a, b) => (b.valMacroF1 > a.valMacroF1 ? b : a));
  const cfg = RunConfigLite.safeParse(readJson(join(dir, 'config.json')));
  const clips = cfg.success ? (cfg.data.data?.clips?.val ?? 0) : 0;
  return { split: 'val', clips, accuracy: best.valAccuracy, macroF1: best.valMacroF1, epoch: best.epoch };
}

/** Member run directories: those listed by ensemble.json, else the run itself. */
export function memberDirs(run: string): string[] {
  const ens = EnsembleFile.safeParse(readJson(join(run, 'ensemble.json')));
  return ens.success ? ens.data.members.map((m) => join(run, m)) : [run];
}

function slug(s: string): string {
  const v = s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '');
  return v || 'head';
}

/**
 * --base: the manifest a new models folder starts from (nothing written yet): the base's, with only
 * the backbones the run's heads were trained on and no heads or ensembles. Refuses a `to` that
 * already has a manifest (export adds to it without --base) and a base without those backbones.
 */
function baseManifest(base: string, to: string, headBackbones: string[]): Manifest {
  if (existsSync(join(to, 'manifest.json')))
    throw new VidkindError(
      'internal',
      `${to} already holds a manifest.json: --base only starts a new models folder (without --base the export adds to this one).`,
    );
  if (!existsSync(join(base, 'manifest.json'))) throw new VidkindError('invalid-manifest', `${base} holds no manifest.json to start from.`);
  const from = readManifestFile(base);
  const wanted = new Set(headBackbones);
  const backbones = from.backbones.filter((b) => wanted.has(b.id));
  // Those it lacks get checkHeadAgainstManifest's message, naming the backbone.
  const { defaultEnsemble: _unused, ...rest } = from;
  return { ...rest, backbones, heads: [], ensembles: [] };
}

/** Writes the new folder's backbones (copied from the base, each checked against its sha256) and manifest. */
function startFromBase(base: string, to: string, manifest: Manifest): void {
  const files = manifest.backbones.map((b) => {
    const bytes = readFileSync(join(base, b.file));
    if (createHash('sha256').update(bytes).digest('hex') !== b.sha256)
      throw new VidkindError('model-integrity', `${join(base, b.file)} does not match its manifest entry (sha256); nothing was copied.`);
    return { file: b.file, bytes };
  });
  for (const f of files) writeFileAtomic(join(to, f.file), f.bytes);
  writeManifestFile(to, manifest);
}

function checkHeadAgainstManifest(m: Manifest, head: HeadFile, dir: string): string[] {
  if (!m.backbones.some((b) => b.id === head.backbone))
    throw new VidkindError(
      'invalid-manifest',
      `The head in ${dir} was trained on backbone "${head.backbone}", which the manifest does not list (have: ${m.backbones.map((b) => b.id).join(', ') || 'none'}).` +
        (m.backbones.length === 0
          ? " Start a new models folder from the site's with --base public/models, or export into a copy of it (cp -r public/models my-models)."
          : ''),
    );
  if (head.classes.join(',') !== CLASS_IDS.join(','))
    throw new VidkindError(
      'invalid-manifest',
      `The head in ${dir} has classes ${head.classes.join(',')}, expected ${CLASS_IDS.join(',')}.`,
    );
  const keys = flattenSubclasses(m.taxonomy).map((s) => s.key);
  if (head.config.subclasses > 0 && head.subclasses.join('|') !== keys.join('|'))
    throw new VidkindError(
      'invalid-manifest',
      `The subclasses of the head in ${dir} do not match the manifest's taxonomy (retrain with this taxonomy).`,
    );
  return head.config.subclasses > 0 ? keys : [];
}

/** Training settings that do not change what is trained: the seed, and which fold a cv run held out. */
const NOT_CONFIG = new Set(['seed', 'folds', 'fold']);

/**
 * The cross-validation, if it validated this run's configuration: the same training settings (all but
 * the seed), the same backbones and number of members, scored at the frames the app will sample.
 */
function checkCrossValidation(
  cv: CrossValidationFile,
  run: { train?: Record<string, unknown>; backbones: string[]; frames: number },
): CrossValidationFile {
  const refuse = (why: string) => {
    throw new VidkindError('internal', `The cross-validation given with --cv is not of this run: ${why}.`);
  };
  if (!run.train) refuse("the run's config.json has no training config to compare");
  // Through the schema, so that a setting left out (written before it existed) reads as its default.
  const theirs = TrainConfigSchema.parse(cv.config) as Record<string, unknown>;
  const mine = TrainConfigSchema.parse(run.train) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(theirs), ...Object.keys(mine)])].filter((k) => !NOT_CONFIG.has(k)).sort();
  // A cv's folds replace the split's test part, so only how the rest is shared between train and
  // val is its recipe: a run trained on every source (split [0.85, 0.05, 0]) is what [0.85, 0.05, 0.1] validated.
  const trainShare = (v: unknown) => {
    const [tr, va] = v as [number, number, number];
    return tr / (tr + va);
  };
  const same = (k: string) =>
    k === 'split' ? Math.abs(trainShare(theirs[k]) - trainShare(mine[k])) < 1e-9 : JSON.stringify(theirs[k]) === JSON.stringify(mine[k]);
  const differ = keys.filter((k) => !same(k));
  if (differ.length)
    refuse(
      `its training config differs in ${differ.map((k) => `${k} (${JSON.stringify(theirs[k])} vs ${JSON.stringify(mine[k])})`).join(', ')}`,
    );
  if (cv.members !== run.backbones.length) refuse(`${cv.members} member(s) per fold, the run has ${run.backbones.length}`);
  const runBackbones = [...new Set(run.backbones)].sort().join(', ');
  const cvBackbones = [...new Set(cv.backbones)].sort().join(', ');
  if (runBackbones !== cvBackbones) refuse(`backbones ${cvBackbones}, the run ${runBackbones}`);
  if (cv.frames !== run.frames)
    refuse(`it scored ${cv.frames} frames per clip, the app will sample ${run.frames} (vidkind cv --frames ${run.frames})`);
  return cv;
}

/** Exports a run; returns the entries written. */
export async function exportRun(o: ExportOptions): Promise<ExportResult> {
  if (!existsSync(o.run)) throw new VidkindError('internal', `No training run at ${o.run}.`);
  const id = slug(o.id ?? basename(o.run));
  const dirs = memberDirs(o.run);
  const trained = dirs.map((dir) => {
    const best = join(dir, 'best');
    if (!existsSync(join(best, 'head.json'))) throw new VidkindError('internal', `No trained head in ${best} (run vidkind train first).`);
    return loadHead(best);
  });
  const seed =
    o.base === undefined
      ? undefined
      : {
          base: o.base,
          manifest: baseManifest(
            o.base,
            o.to,
            trained.map((t) => t.head.backbone),
          ),
        };
  const manifest = seed?.manifest ?? readManifestFile(o.to);
  const members: Array<{ dir: string; head: HeadFile; weights: HeadWeights; headId: string; subclasses: string[] }> = dirs.map((dir, i) => {
    const { head, weights } = trained[i]!;
    return {
      dir,
      head,
      weights,
      headId: dirs.length === 1 ? id : `${id}-m${i + 1}`,
      subclasses: checkHeadAgainstManifest(manifest, head, dir),
    };
  });

  const trainedFrames = members[0]!.head.frames;
  const frames = o.frames ?? trainedFrames;
  if (!Number.isInteger(frames) || frames < 1 || frames > trainedFrames)
    throw new VidkindError(
      'internal',
      `--frames must be an integer from 1 to ${trainedFrames} (the frames the heads were trained on), got ${o.frames}.`,
    );
  const metricsJson = readJson(join(o.run, 'metrics.json')) as { frames?: unknown } | undefined;
  const evaluated = metricsJson?.frames ?? trainedFrames;
  if (metricsJson !== undefined && evaluated !== frames)
    throw new VidkindError(
      'internal',
      `${join(o.run, 'metrics.json')} scores ${String(evaluated)} frames per clip, not ${frames}: run vidkind eval --frames ${frames} first, so the shipped metrics and calibration hold.`,
    );

  // The run's own config: an ensemble's top-level one holds its memberConfigs, which the members' lack.
  const cfg = RunConfigLite.safeParse(readJson(join(o.run, 'config.json')) ?? readJson(join(dirs[0]!, 'config.json')));
  const cv =
    o.cv === undefined
      ? undefined
      : checkCrossValidation(readCrossValidation(o.cv), {
          train: cfg.success ? cfg.data.train : undefined,
          backbones: members.map((mb) => mb.head.backbone),
          frames,
        });

  // Parity first: nothing is written unless every runtime agrees.
  const onnx: Uint8Array[] = [];
  const parity: ExportResult['parity'] = [];
  for (const mb of members) {
    const bytes = headToOnnx(mb.head.config, mb.weights, {
      'vidkind.head': mb.headId,
      'vidkind.backbone': mb.head.backbone,
      'vidkind.frames': String(frames),
    });
    const report = await checkHeadParity(mb.head.config, mb.weights, bytes, mb.head.frames, { tfjs: o.tfjsParity });
    assertParity(report);
    onnx.push(bytes);
    parity.push({ head: mb.headId, ...report });
  }

  if (seed) startFromBase(seed.base, o.to, seed.manifest);
  const heads: HeadEntry[] = members.map((mb, i) => {
    const file = `heads/${mb.headId}.onnx`;
    writeFileAtomic(join(o.to, file), onnx[i]!);
    const metrics = runMetrics(mb.dir, o.run);
    const entry: HeadEntry = {
      id: mb.headId,
      backbone: mb.head.backbone,
      file,
      sha256: createHash('sha256').update(onnx[i]!).digest('hex'),
      bytes: onnx[i]!.length,
      frames,
      inputs: { features: HEAD_IO.input },
      outputs: {
        logits: HEAD_IO.logits,
        subLogits: mb.head.config.subclasses > 0 ? HEAD_IO.subLogits : undefined,
        attention: HEAD_IO.attention,
      },
      classes: [...CLASS_IDS],
      subclasses: mb.subclasses,
      ...(metrics ? { metrics } : {}),
      ...(o.testModel ? { testModel: true } : {}),
    };
    upsertHead(o.to, entry);
    return entry;
  });

  const runMetricsFile = RunMetricsSchema.safeParse(metricsJson ?? {});
  const calib = runMetricsFile.success ? runMetricsFile.data : {};
  const ensembleMetrics = runMetrics(o.run);
  const ensemble: EnsembleEntry = {
    id,
    name: o.name ?? (members.length > 1 ? `${id} (ensemble of ${members.length})` : id),
    members: heads.map((h) => h.id),
    temperature: calib.temperature ?? 1,
    oodThreshold: calib.oodThreshold ?? 0.8,
    subclassTemperature: calib.subclassTemperature ?? 1,
    ...(ensembleMetrics ? { metrics: ensembleMetrics } : {}),
    ...(cv
      ? {
          crossValidation: {
            folds: cv.folds,
            clips: cv.clips,
            accuracy: cv.accuracy,
            macroF1: cv.macroF1,
            perClassF1: Object.fromEntries(Object.entries(cv.perClass).map(([c, s]) => [c, s.f1])),
          },
        }
      : {}),
  };
  const current = readManifestFile(o.to);
  upsertEnsemble(o.to, ensemble, o.makeDefault === true || !current.defaultEnsemble);
  // A re-export with fewer members leaves heads no ensemble uses: drop them and their files.
  const { manifest: written, removed } = pruneHeads(o.to);
  for (const h of removed) rmSync(join(o.to, h.file), { force: true });

  updateModelCard(o.to, {
    ensemble,
    heads,
    members: members.map((mb) => ({ headId: mb.headId, config: mb.head.config, meta: mb.head.meta })),
    data: cfg.success ? cfg.data.data : { frames: trainedFrames },
    train: cfg.success ? cfg.data.train : undefined,
    runMetrics: runMetricsFile.success ? runMetricsFile.data : undefined,
    parity,
    testModel: o.testModel === true,
    backbones: written.backbones.filter((b) => heads.some((h) => h.backbone === b.id)),
    cv,
  });
  return { ensemble, heads, parity, manifestVersion: written.version };
}
