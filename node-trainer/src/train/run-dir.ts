/**
 * A training run directory (the export, eval and classify commands read it):
 *   config.json   RunConfig: training config (incl. seed), HeadConfig, data description, split of every item key
 *   state/        resumable checkpoint (state.ts)
 *   best/         saveHead() of the best weights by validation macro-F1
 *   history.json  per-epoch train loss, val loss, val macro-F1, val accuracy, lr
 *   members/<i>/  for `--members k`: one such run per member, plus ensemble.json listing them
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HeadConfigSchema } from '../head/params.ts';
import { writeJsonAtomic } from '../fs-atomic.ts';
import { TrainConfigSchema } from './config.ts';

export const EpochRecordSchema = z.object({
  epoch: z.number().int(),
  trainLoss: z.number(),
  valLoss: z.number(),
  valMacroF1: z.number(),
  valAccuracy: z.number(),
  /** Learning rate at the end of the epoch. */
  lr: z.number(),
  seconds: z.number(),
});
export type EpochRecord = z.infer<typeof EpochRecordSchema>;

export const RunConfigSchema = z.object({
  format: z.literal('vidkind-train/1'),
  // Runs made before `shards` existed computed each batch in one pass: resume them that way.
  train: z.preprocess((v) => (typeof v === 'object' && v !== null && !('shards' in v) ? { ...v, shards: 1 } : v), TrainConfigSchema),
  head: HeadConfigSchema,
  data: z.object({
    features: z.string(),
    backbone: z.string(),
    frames: z.number().int().positive(),
    featureDim: z.number().int().positive(),
    clips: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
  }),
  classes: z.array(z.string()),
  subclasses: z.array(z.string()),
  /** item key -> part; every clip of the store at training time. */
  split: z.record(z.string(), z.enum(['train', 'val', 'test'])),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

export const EnsembleFileSchema = z.object({
  format: z.literal('vidkind-ensemble/1'),
  /** Member run directories, relative to the ensemble run directory. */
  members: z.array(z.string()),
});

export const runPaths = (run: string) => ({
  config: join(run, 'config.json'),
  state: join(run, 'state'),
  best: join(run, 'best'),
  history: join(run, 'history.json'),
  ensemble: join(run, 'ensemble.json'),
  metrics: join(run, 'metrics.json'),
  report: join(run, 'report.html'),
});

export function readRunConfig(run: string): RunConfig {
  return RunConfigSchema.parse(JSON.parse(readFileSync(runPaths(run).config, 'utf8')));
}

export function writeRunConfig(run: string, c: RunConfig): void {
  writeJsonAtomic(runPaths(run).config, RunConfigSchema.parse(c));
}

export function readHistory(run: string): EpochRecord[] {
  const p = runPaths(run).history;
  return existsSync(p) ? z.array(EpochRecordSchema).parse(JSON.parse(readFileSync(p, 'utf8'))) : [];
}

/** Member run dirs of an ensemble run (absolute), or [run] for a single head. */
export function runMembers(run: string): string[] {
  const p = runPaths(run).ensemble;
  if (!existsSync(p)) return [run];
  return EnsembleFileSchema.parse(JSON.parse(readFileSync(p, 'utf8'))).members.map((m) => join(run, m));
}
