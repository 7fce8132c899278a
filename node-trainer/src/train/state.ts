/**
 * The resumable checkpoint in <run>/state/: state.json (counters, RNG state, the epoch's shuffled
 * order, history, early-stopping bookkeeping) + one float32 blob with weights and AdamW moments.
 * The blob's name carries the step and is written first; state.json, written atomically after it,
 * is the commit point. A kill at any moment leaves the previous checkpoint usable.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, writeJsonAtomic } from '../fs-atomic.ts';
import { EpochRecordSchema } from './run-dir.ts';

export const TrainStateSchema = z.object({
  format: z.literal('vidkind-train-state/1'),
  epoch: z.number().int().min(0),
  stepInEpoch: z.number().int().min(0),
  globalStep: z.number().int().min(0),
  /** Order of the training clips for the current epoch (null at an epoch boundary). */
  order: z.array(z.number().int()).nullable(),
  rngState: z.number().int(),
  adamStep: z.number().int(),
  epochLossSum: z.number(),
  epochLossCount: z.number().int(),
  epochSeconds: z.number(),
  history: z.array(EpochRecordSchema),
  bestEpoch: z.number().int(),
  bestF1: z.number(),
  done: z.boolean(),
  blob: z.string(),
});
export type TrainState = z.infer<typeof TrainStateSchema>;

export interface Tensors3 {
  params: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
}

/** Writes a checkpoint; `s.blob` is chosen here. */
export function saveTrainState(dir: string, s: Omit<TrainState, 'blob' | 'format'>, t: Tensors3): void {
  const all = [...t.params, ...t.m, ...t.v];
  const total = all.reduce((a, x) => a + x.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const x of all) {
    flat.set(x, off);
    off += x.length;
  }
  const blob = `ckpt-${String(s.globalStep).padStart(9, '0')}-${s.epoch}.bin`;
  writeFileAtomic(join(dir, blob), new Uint8Array(flat.buffer));
  writeJsonAtomic(join(dir, 'state.json'), TrainStateSchema.parse({ ...s, format: 'vidkind-train-state/1', blob }));
  // Older checkpoints, and temp files a kill left mid-write (one writer per state dir: none is in flight now).
  for (const f of readdirSync(dir))
    if ((/^ckpt-.*\.bin$/.test(f) && f !== blob) || /^\..*\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
}

export function hasTrainState(dir: string): boolean {
  return existsSync(join(dir, 'state.json'));
}

/** Reads a checkpoint into arrays of the given sizes (the head's parameter sizes, in order). */
export function loadTrainState(dir: string, sizes: number[]): { state: TrainState; tensors: Tensors3 } {
  const state = TrainStateSchema.parse(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')));
  const buf = readFileSync(join(dir, state.blob));
  const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const per = sizes.reduce((a, b) => a + b, 0);
  if (flat.length !== 3 * per) throw new Error(`checkpoint ${state.blob} holds ${flat.length} values, expected ${3 * per}`);
  let off = 0;
  const take = () =>
    sizes.map((n) => {
      const x = flat.slice(off, off + n);
      off += n;
      return x;
    });
  const params = take();
  const m = take();
  const v = take();
  return { state, tensors: { params, m, v } };
}
