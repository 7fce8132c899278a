/**
 * `public/models/manifest.json`: which backbones and heads exist, how to feed them, what they were
 * trained on and how well they do. Validated with zod at load; model bytes are checked by sha256.
 */
import './zod-config';
import { z } from 'zod';
import { VidkindError } from './errors';
import { CLASS_IDS, TaxonomySchema } from './taxonomy';

export const MANIFEST_SCHEMA_VERSION = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits');
const RelativeFile = z
  .string()
  .min(1)
  .refine((f) => !f.startsWith('/') && !f.includes('..') && !/^[a-z]+:/i.test(f), 'model files are paths relative to the manifest');
const Triple = z.tuple([z.number(), z.number(), z.number()]);

export const ProvenanceSchema = z.object({
  source: z.string().min(1),
  package: z.string().optional(),
  version: z.string().optional(),
  path: z.string().optional(),
  notes: z.string().optional(),
});

export const ParitySchema = z.object({
  reference: z.string(),
  images: z.number().int().min(1),
  maxAbsDiff: z.number().min(0),
  meanCosine: z.number(),
});

export const BackboneEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  name: z.string().min(1),
  file: RelativeFile,
  sha256: Sha256,
  bytes: z.number().int().positive(),
  input: z.object({
    name: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    layout: z.enum(['NHWC', 'NCHW']),
    range: z.tuple([z.number(), z.number()]),
    mean: Triple.optional(),
    std: Triple.optional(),
  }),
  output: z.object({ name: z.string().min(1), dim: z.number().int().positive() }),
  quantization: z.enum(['none', 'uint8', 'int8', 'fp16']),
  provenance: ProvenanceSchema,
  licence: z.string().min(1),
  parity: ParitySchema.optional(),
  /** True for models generated only to exercise the pipeline in tests; never shown as a real model. */
  testModel: z.boolean().optional(),
});

export const MetricsSchema = z
  .object({
    split: z.string(),
    clips: z.number().int().min(0),
    accuracy: z.number().min(0).max(1),
    macroF1: z.number().min(0).max(1),
    /** F1 per class id on the same clips. */
    perClassF1: z.record(z.string(), z.number().min(0).max(1)).optional(),
  })
  .catchall(z.unknown());

/**
 * An ensemble's configuration cross-validated by source (`vidkind cv`, recorded by `vidkind export
 * --cv`): every clip of the training corpus judged by a model trained the same way without its
 * source. Of the recipe, not of these exact weights; steadier than one test split of a few sources.
 */
export const CrossValidationSummarySchema = z.object({
  folds: z.number().int().min(2),
  clips: z.number().int().min(1),
  accuracy: z.number().min(0).max(1),
  macroF1: z.number().min(0).max(1),
  perClassF1: z.record(z.string(), z.number().min(0).max(1)).optional(),
});

export const HeadEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  backbone: z.string(),
  file: RelativeFile,
  sha256: Sha256,
  bytes: z.number().int().positive(),
  /** The T the head was trained on (it accepts any T). */
  frames: z.number().int().positive(),
  inputs: z.object({ features: z.string().min(1) }),
  outputs: z.object({ logits: z.string().min(1), subLogits: z.string().optional(), attention: z.string().optional() }),
  /** Order of the class logits: must be the taxonomy's class order. */
  classes: z.array(z.enum(CLASS_IDS)).length(CLASS_IDS.length),
  /** Order of the subclass logits, as `class/subclass` keys. */
  subclasses: z.array(z.string()),
  metrics: MetricsSchema.optional(),
  testModel: z.boolean().optional(),
});

export const EnsembleEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  name: z.string().min(1),
  members: z.array(z.string()).min(1),
  /** Calibration temperature applied to each member's logits (fitted on validation, or on a cross-validation's held-out clips). */
  temperature: z.number().positive().default(1),
  /** OOD threshold on `oodScore` (normalised entropy): above it, "none of the four". */
  oodThreshold: z.number().min(0).max(1).default(0.8),
  /**
   * Temperature of the subclass logits (the subcategory's confidence within its class), fitted
   * apart from the class temperature; absent in manifests exported before 2026-11-29, which get 1,
   * the heads' own scale.
   */
  subclassTemperature: z.number().positive().default(1),
  metrics: MetricsSchema.optional(),
  crossValidation: CrossValidationSummarySchema.optional(),
});

export const TtaViewSchema = z.object({
  id: z.string().min(1),
  flip: z.boolean().default(false),
  crop: z.number().gt(0).max(1).default(1),
  /** Temporal shift of the plan, in sample spacings, [-0.5, 0.5]. */
  shift: z.number().min(-0.5).max(0.5).default(0),
});

export const ManifestSchema = z
  .object({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    /** Changes whenever any model file changes: used to version caches. */
    version: z.string().min(1),
    taxonomy: TaxonomySchema,
    backbones: z.array(BackboneEntrySchema),
    heads: z.array(HeadEntrySchema),
    ensembles: z.array(EnsembleEntrySchema),
    defaultEnsemble: z.string().optional(),
    tta: z.object({ views: z.array(TtaViewSchema).min(1) }),
    segments: z.object({ window: z.number().int().positive(), stride: z.number().int().positive() }).default({ window: 8, stride: 4 }),
  })
  .superRefine((m, ctx) => {
    const backbones = new Map(m.backbones.map((b) => [b.id, b]));
    const heads = new Set(m.heads.map((h) => h.id));
    const subKeys = m.taxonomy.classes.flatMap((c) => c.subclasses.map((s) => `${c.id}/${s.id}`));
    if (backbones.size !== m.backbones.length) ctx.addIssue({ code: 'custom', message: 'duplicate backbone id' });
    if (heads.size !== m.heads.length) ctx.addIssue({ code: 'custom', message: 'duplicate head id' });
    for (const h of m.heads) {
      const b = backbones.get(h.backbone);
      if (!b) ctx.addIssue({ code: 'custom', message: `head "${h.id}" uses unknown backbone "${h.backbone}"` });
      h.classes.forEach((c, i) => {
        if (c !== CLASS_IDS[i]) ctx.addIssue({ code: 'custom', message: `head "${h.id}" class order must be ${CLASS_IDS.join(',')}` });
      });
      if (h.outputs.subLogits && h.subclasses.join('|') !== subKeys.join('|'))
        ctx.addIssue({ code: 'custom', message: `head "${h.id}" subclasses do not match the taxonomy` });
    }
    for (const e of m.ensembles)
      for (const member of e.members)
        if (!heads.has(member)) ctx.addIssue({ code: 'custom', message: `ensemble "${e.id}" names unknown head "${member}"` });
    if (m.defaultEnsemble && !m.ensembles.some((e) => e.id === m.defaultEnsemble))
      ctx.addIssue({ code: 'custom', message: `defaultEnsemble "${m.defaultEnsemble}" is not an ensemble` });
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type BackboneEntry = z.infer<typeof BackboneEntrySchema>;
export type HeadEntry = z.infer<typeof HeadEntrySchema>;
export type EnsembleEntry = z.infer<typeof EnsembleEntrySchema>;
export type TtaView = z.infer<typeof TtaViewSchema>;

/** Validates a manifest; a bad one becomes an `invalid-manifest` error naming what is wrong. */
export function parseManifest(input: unknown): Manifest {
  const parsed = ManifestSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new VidkindError('invalid-manifest', `The model manifest is invalid: ${first.join('; ')}`);
  }
  return parsed.data;
}

/** The ensemble to use: the named one, else the manifest default, else the first. */
export function pickEnsemble(m: Manifest, id?: string): EnsembleEntry {
  const wanted = id ?? m.defaultEnsemble;
  const found = wanted ? m.ensembles.find((e) => e.id === wanted) : m.ensembles[0];
  if (!found)
    throw new VidkindError('invalid-manifest', wanted ? `No ensemble named "${wanted}" in the manifest.` : 'The manifest has no ensemble.');
  return found;
}

/**
 * The ensemble a remembered choice stands for: that one while the manifest has it, else the
 * manifest's default. The app keeps the choice across visits, and the site's models may have
 * changed since, or other models run; a stale choice must not stop classification.
 */
export function chosenEnsemble(m: Manifest, id?: string): EnsembleEntry {
  return pickEnsemble(m, id !== undefined && m.ensembles.some((e) => e.id === id) ? id : undefined);
}

/** Heads of an ensemble and the backbones they need (each backbone once). */
export function ensembleModels(m: Manifest, ensemble: EnsembleEntry): { heads: HeadEntry[]; backbones: BackboneEntry[] } {
  const heads = ensemble.members.map((id) => m.heads.find((h) => h.id === id)!);
  const ids = [...new Set(heads.map((h) => h.backbone))];
  return { heads, backbones: ids.map((id) => m.backbones.find((b) => b.id === id)!) };
}

/** Lower-case hex sha256 of some bytes (WebCrypto: the same in browsers and Node). */
export async function sha256Hex(bytes: ArrayBuffer | ArrayBufferView): Promise<string> {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // WebCrypto is global in browsers, workers and Node >= 19; typed here because core has no DOM lib.
  const { subtle } = (globalThis as unknown as { crypto: { subtle: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } })
    .crypto;
  const digest = await subtle.digest('SHA-256', view);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Refuses model bytes whose sha256 differs from the manifest entry. */
export async function verifyModelBytes(
  entry: { id: string; file: string; sha256: string },
  bytes: ArrayBuffer | ArrayBufferView,
): Promise<void> {
  const actual = await sha256Hex(bytes);
  if (actual !== entry.sha256)
    throw new VidkindError(
      'model-integrity',
      `The model file "${entry.file}" (${entry.id}) does not match the manifest (sha256 ${actual.slice(0, 12)}… instead of ${entry.sha256.slice(0, 12)}…), so it was not used. Re-deploy the model files or clear cached models.`,
    );
}
