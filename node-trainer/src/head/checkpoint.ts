/**
 * A trained head on disk (what `train` writes, and `eval`, `export` and `classify` read):
 *   <dir>/head.json    HeadFile (config, class and subclass order, backbone, training metadata)
 *   <dir>/weights.json the index of packHeadWeights; <dir>/weights.bin the float32 blob
 * Writes are atomic: a kill leaves the previous checkpoint intact.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import { writeFileAtomic, writeJsonAtomic } from '../fs-atomic.ts';
import { HeadConfigSchema, packHeadWeights, unpackHeadWeights, type HeadWeights } from './params.ts';

export const HeadFileSchema = z.object({
  format: z.literal('vidkind-head/1'),
  config: HeadConfigSchema,
  backbone: z.string(),
  frames: z.number().int().positive(),
  classes: z.array(z.enum(CLASS_IDS)),
  /** `class/subclass` keys in the order of the subclass logits. */
  subclasses: z.array(z.string()),
  /** Free-form training metadata (seed, epoch, metrics, data description). */
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type HeadFile = z.infer<typeof HeadFileSchema>;

const IndexSchema = z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), offset: z.number().int() }));

/** Saves a head checkpoint atomically (weights first, then head.json, which marks it complete). */
export function saveHead(dir: string, head: HeadFile, weights: HeadWeights): void {
  const { index, blob } = packHeadWeights(head.config, weights);
  writeFileAtomic(join(dir, 'weights.bin'), blob);
  writeJsonAtomic(join(dir, 'weights.json'), index);
  writeJsonAtomic(join(dir, 'head.json'), HeadFileSchema.parse(head));
}

/** Loads a head checkpoint, validating its shapes. */
export function loadHead(dir: string): { head: HeadFile; weights: HeadWeights } {
  if (!existsSync(join(dir, 'head.json'))) throw new Error(`no head checkpoint in ${dir} (head.json missing)`);
  const head = HeadFileSchema.parse(JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')));
  const index = IndexSchema.parse(JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')));
  const weights = unpackHeadWeights(head.config, index, new Uint8Array(readFileSync(join(dir, 'weights.bin'))));
  return { head, weights };
}
