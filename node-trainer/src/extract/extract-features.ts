/**
 * `vidkind extract`: labelled videos -> backbone features in a feature store. Decoding of the next
 * clips (ffmpeg child processes, `decodeAhead` at a time) overlaps the backbone run on the current
 * one. Resumable: clips in the store's index are skipped; a killed run loses at most the clips in
 * flight.
 */
import { VidkindError, toErrorInfo } from '../../../src/core/errors.ts';
import type { BackboneEntry, Manifest } from '../../../src/core/manifest.ts';
import type { RgbaFrame } from '../../../src/core/preprocess.ts';
import { samplePlan, type SamplePlan } from '../../../src/core/sampling.ts';
import { cudaProviderInstalled, openBackbone, type BackboneSession, type Device } from '../backbone-runtime/session.ts';
import { AheadQueue, defaultDecodeAhead } from '../decode/ahead.ts';
import type { DecodeStrategy } from '../decode/frames.ts';
import { probeVideo } from '../decode/probe.ts';
import { decodePlans } from '../decode/sampled-frames.ts';
import { itemKey, logItemError, openStore, readIndex, writeItem } from '../features/store.ts';
import type { LabelRow } from './labels.ts';

export interface Shard {
  /** 1-based shard number. */
  i: number;
  n: number;
}

/** Parses `i/N` (1 <= i <= N). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && i >= 1 && i <= n)) throw new Error(`--shard must be i/N with 1 <= i <= N (e.g. 1/4), got "${text}"`);
  return { i, n };
}

/** Which shard a clip belongs to: by the hash of its path, so every machine agrees without talking. */
export function shardOf(path: string, n: number): number {
  return (parseInt(itemKey(path).slice(0, 8), 16) % n) + 1;
}

export interface ExtractOptions {
  rows: LabelRow[];
  manifest: Manifest;
  modelsDir: string;
  backbone: string;
  out: string;
  /**
   * More backbones, each into its own store, from the same decoded frames (decoding dominates, so
   * one decode for every backbone). A clip is decoded when any store lacks it and written to those
   * that do.
   */
  more?: Array<{ backbone: string; out: string }>;
  frames: number;
  shard?: Shard;
  device?: Device;
  strategy?: DecodeStrategy;
  batchSize?: number;
  threads?: number;
  /** Clips decoded ahead of the backbone (default: defaultDecodeAhead(), decode/ahead.ts). */
  decodeAhead?: number;
  signal?: AbortSignal;
  /** Called once the work list is known, then after every clip. */
  onProgress?: (p: { done: number; total: number; failed: number; frames: number }) => void;
}

export interface ExtractSummary {
  /** Clips in this shard. */
  total: number;
  /** Already in the store before this run. */
  skipped: number;
  extracted: number;
  failed: number;
  /** Frames decoded and embedded by this run. */
  frames: number;
  seconds: number;
  framesPerSecond: number;
  cancelled: boolean;
}

interface Decoded {
  row: LabelRow;
  plan: SamplePlan;
  frames: RgbaFrame[];
}

/** Runs an extraction; per-clip failures are logged in the store(s) and counted, not thrown. */
export async function extractFeatures(o: ExtractOptions): Promise<ExtractSummary> {
  const targets = [{ backbone: o.backbone, out: o.out }, ...(o.more ?? [])].map((t) => {
    const entry: BackboneEntry | undefined = o.manifest.backbones.find((b) => b.id === t.backbone);
    if (!entry)
      throw new VidkindError(
        'invalid-manifest',
        `No backbone "${t.backbone}" in the manifest (have: ${o.manifest.backbones.map((b) => b.id).join(', ') || 'none'}).`,
      );
    return { entry, out: t.out };
  });
  const open = (entry: BackboneEntry) => openBackbone(o.modelsDir, entry, { device: o.device, batchSize: o.batchSize, threads: o.threads });
  // Fail on a missing CUDA provider, or no GPU adapter for WebGPU, before touching the stores.
  if (o.device === 'cuda' && !cudaProviderInstalled()) await open(targets[0]!.entry);
  const early: BackboneSession[] = o.device === 'webgpu' ? await Promise.all(targets.map((t) => open(t.entry))) : [];
  for (const t of targets)
    openStore(t.out, { format: 'vidkind-features/1', backbone: t.entry.id, dim: t.entry.output.dim, frames: o.frames });
  const mine = o.shard ? o.rows.filter((r) => shardOf(r.path, o.shard!.n) === o.shard!.i) : o.rows;
  const done = targets.map((t) => new Set(readIndex(t.out).map((it) => it.key)));
  // Per clip, the stores that still lack it.
  const lacking = (r: LabelRow) => targets.filter((_, k) => !done[k]!.has(itemKey(r.path)));
  const todo = mine.filter((r) => lacking(r).length > 0);
  const summary: ExtractSummary = {
    total: mine.length,
    skipped: mine.length - todo.length,
    extracted: 0,
    failed: 0,
    frames: 0,
    seconds: 0,
    framesPerSecond: 0,
    cancelled: false,
  };
  const started = performance.now();
  const report = () =>
    o.onProgress?.({ done: summary.extracted + summary.failed, total: todo.length, failed: summary.failed, frames: summary.frames });
  report();
  if (todo.length === 0) {
    await Promise.all(early.map((e) => e.release()));
    return summary;
  }

  const sessions: BackboneSession[] = early.length > 0 ? early : [];
  if (sessions.length === 0) for (const t of targets) sessions.push(await open(t.entry));
  const decode = async (row: LabelRow): Promise<Decoded> => {
    const info = await probeVideo(row.file, { signal: o.signal });
    const plan = samplePlan(info.durationS, { frames: o.frames, frameRate: info.frameRate, frameCount: info.frameCount });
    const [frames] = await decodePlans(row.file, info, [plan], { strategy: o.strategy, signal: o.signal });
    return { row, plan, frames: frames! };
  };
  // Decodes run up to decodeAhead clips ahead of the backbone (each an ffmpeg process).
  const queue = new AheadQueue(todo, o.decodeAhead ?? defaultDecodeAhead(), decode, () => !!o.signal?.aborted);
  try {
    for (let k = 0; k < todo.length; k++) {
      const row = todo[k]!;
      const current = await queue.next();
      try {
        if (o.signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
        if (!current.ok) throw current.error;
        const { plan, frames } = current.value;
        // Embed each distinct frame once, then lay the features out in plan order.
        const uniqueFrames = plan.unique.map((_, u) => frames[plan.indexInUnique.indexOf(u)]!);
        const wanted = lacking(row);
        const outputs: Float32Array[] = [];
        for (const t of wanted) {
          const feats = await sessions[targets.indexOf(t)]!.embed(uniqueFrames);
          const D = t.entry.output.dim;
          const out = new Float32Array(plan.timestamps.length * D);
          plan.indexInUnique.forEach((u, i) => out.set(feats.subarray(u * D, (u + 1) * D), i * D));
          outputs.push(out);
        }
        if (o.signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
        const item = {
          key: itemKey(row.path),
          path: row.path,
          class: row.class,
          subclass: row.subclass,
          source: row.source,
          durationS: plan.durationS,
          frames: plan.timestamps.length,
        };
        wanted.forEach((t, i) => writeItem(t.out, item, outputs[i]!, o.shard));
        summary.extracted++;
        summary.frames += uniqueFrames.length;
      } catch (e) {
        const info = toErrorInfo(e);
        if (info.code === 'cancelled') {
          summary.cancelled = true;
          break;
        }
        for (const t of lacking(row)) logItemError(t.out, { path: row.path, ...info });
        summary.failed++;
      }
      report();
    }
    if (summary.cancelled) await queue.drain();
  } finally {
    await Promise.all(sessions.map((x) => x.release()));
    summary.seconds = (performance.now() - started) / 1000;
    summary.framesPerSecond = summary.seconds > 0 ? summary.frames / summary.seconds : 0;
  }
  return summary;
}
