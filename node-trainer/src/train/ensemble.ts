/**
 * `--members k`: k heads trained in parallel worker threads (tfjs-wasm is single-threaded in Node,
 * so threads are the parallelism). Member i uses seed + i, its own `memberConfigs[i]` settings
 * (train/config.ts) and the i-th features directory (mod the number given, so several backbones
 * make a mixed ensemble); all share one split, made once here, so that the ensemble's validation
 * and test clips are the same for every member.
 */
import { mkdirSync, existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { readIndex } from '../features/store.ts';
import { writeJsonAtomic } from '../fs-atomic.ts';
import { memberConfig, type TrainConfig } from './config.ts';
import { makeSplit, prepareRun, type TrainProgress, type TrainResult } from './loop.ts';
import { runPaths, type EpochRecord } from './run-dir.ts';
import type { SplitPart } from './split.ts';

export interface MemberJob {
  features: string;
  out: string;
  config: TrainConfig;
  resume: boolean;
  split: Record<string, SplitPart>;
  /** Threads for this member's gradient shards. */
  threads: number;
}

export type MemberMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'done'; result: TrainResult }
  | { type: 'error'; code: string; message: string };

export interface EnsembleOptions {
  features: string[];
  out: string;
  config: TrainConfig;
  members: number;
  resume: boolean;
  /** Threads for the whole ensemble, shared out evenly (at least one per member). Default: one per member. */
  threads?: number;
  /** Cross-validation folds only: sources kept in given folds (see makeSplit). */
  pinnedFolds?: ReadonlyMap<string, number>;
  onProgress?: (member: number, p: TrainProgress) => void;
  onEpoch?: (member: number, r: EpochRecord) => void;
}

export interface EnsembleHandle {
  /** Asks every member to checkpoint and stop. */
  stop(): void;
  done: Promise<TrainResult[]>;
}

/** Starts the member workers; `done` resolves when all have finished, stopped or failed (rejects on the first failure). */
export function trainEnsemble(o: EnsembleOptions): EnsembleHandle {
  if (o.members < 1) throw new RangeError('an ensemble needs at least one member');
  // The top-level config.json holds the base config and the shared split.
  const fresh = !existsSync(runPaths(o.out).config);
  const { split } = prepareRun({
    features: o.features[0]!,
    out: o.out,
    config: o.config,
    resume: o.resume,
    split: fresh ? makeSplit(readIndex(o.features[0]!), o.config, o.pinnedFolds) : undefined,
  });
  const dirs = Array.from({ length: o.members }, (_, i) => `members/${i}`);
  writeJsonAtomic(runPaths(o.out).ensemble, { format: 'vidkind-ensemble/1', members: dirs });
  const workers: Worker[] = [];
  const done = Promise.all(
    dirs.map((dir, i) => {
      const out = `${o.out}/${dir}`;
      mkdirSync(out, { recursive: true });
      const job: MemberJob = {
        features: o.features[i % o.features.length]!,
        out,
        config: memberConfig(o.config, i),
        resume: o.resume,
        split,
        threads: Math.max(1, Math.floor((o.threads ?? o.members) / o.members)),
      };
      const w = new Worker(new URL('./member-worker.mjs', import.meta.url), { workerData: job });
      workers.push(w);
      return new Promise<TrainResult>((resolve, reject) => {
        let settled = false;
        w.on('message', (m: MemberMessage) => {
          if (m.type === 'progress') o.onProgress?.(i, m.progress);
          else if (m.type === 'epoch') o.onEpoch?.(i, m.record);
          else if (m.type === 'done') {
            settled = true;
            resolve(m.result);
          } else {
            settled = true;
            reject(Object.assign(new Error(`member ${i}: ${m.message}`), { code: m.code }));
          }
        });
        w.on('error', (e) => {
          settled = true;
          reject(e);
        });
        w.on('exit', (code) => {
          if (!settled) reject(new Error(`member ${i} exited with code ${code}`));
        });
      });
    }),
  );
  return {
    stop: () => workers.forEach((w) => w.postMessage('stop')),
    done,
  };
}
