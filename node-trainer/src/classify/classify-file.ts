/**
 * One video -> one `Result`, headless: ffmpeg decode at the plan (and the TTA plans), src/core
 * preprocessing, backbone(s) and every member head in onnxruntime-node, then src/core's
 * buildVerdict: the same contract and the same post-processing as the browser's export.
 */
import { VidkindError, toErrorInfo } from '../../../src/core/errors.ts';
import type { TtaView } from '../../../src/core/manifest.ts';
import type { RgbaFrame } from '../../../src/core/preprocess.ts';
import { DEFAULT_FRAME_COUNT, samplePlan, segmentWindows, type SamplePlan } from '../../../src/core/sampling.ts';
import { SuccessResultSchema, type Result } from '../../../src/core/result.ts';
import { buildVerdict, type MemberOutput } from '../../../src/core/verdict.ts';
import type { DecodeStrategy } from '../decode/frames.ts';
import { outputSize, probeVideo, type VideoInfo } from '../decode/probe.ts';
import { decodePlans } from '../decode/sampled-frames.ts';
import type { EnsembleModels } from './ensemble-models.ts';

const IDENTITY: TtaView = { id: 'identity', flip: false, crop: 1, shift: 0 };

export interface ClassifyOptions {
  tta?: boolean;
  strategy?: DecodeStrategy;
  signal?: AbortSignal;
}

/** A decoded file, ready for inference (decoding of the next file overlaps inference of this one). */
export interface DecodedVideo {
  file: string;
  info: VideoInfo;
  views: TtaView[];
  /** One plan per distinct shift, and the frames of each. */
  plans: Map<number, { plan: SamplePlan; frames: RgbaFrame[] }>;
  decodeMs: number;
}

/** The views to run: the manifest's TTA views with --tta (identity first), else identity only. */
export function viewsFor(models: EnsembleModels, tta: boolean): TtaView[] {
  if (!tta) return [IDENTITY];
  const views = models.manifest.tta.views;
  const isId = (v: TtaView) => !v.flip && v.crop === 1 && v.shift === 0;
  return views.some(isId) ? [...views.filter(isId).slice(0, 1), ...views.filter((v) => !isId(v))] : [IDENTITY, ...views];
}

/** Probes and decodes every frame the views need. */
export async function decodeForClassify(file: string, models: EnsembleModels, o: ClassifyOptions = {}): Promise<DecodedVideo> {
  const t0 = performance.now();
  const info = await probeVideo(file, { signal: o.signal });
  const frames = models.heads[0]?.entry.frames ?? DEFAULT_FRAME_COUNT;
  const views = viewsFor(models, o.tta === true);
  const shifts = [...new Set(views.map((v) => v.shift))];
  const plans = shifts.map((shift) =>
    samplePlan(info.durationS, { frames, shift, frameRate: info.frameRate, frameCount: info.frameCount }),
  );
  const decoded = await decodePlans(file, info, plans, { strategy: o.strategy, signal: o.signal });
  return {
    file,
    info,
    views,
    plans: new Map(shifts.map((s, i) => [s, { plan: plans[i]!, frames: decoded[i]! }])),
    decodeMs: performance.now() - t0,
  };
}

/** Backbone features of a plan's frames under one view, [T, D] in plan order (each distinct frame embedded once). */
async function viewFeatures(
  models: EnsembleModels,
  backboneId: string,
  plan: SamplePlan,
  frames: RgbaFrame[],
  view: TtaView,
): Promise<Float32Array> {
  const session = models.backbones.get(backboneId)!;
  const D = session.entry.output.dim;
  const unique = plan.unique.map((_, u) => frames[plan.indexInUnique.indexOf(u)]!);
  const feats = await session.embed(unique, { flip: view.flip, crop: view.crop });
  const out = new Float32Array(plan.timestamps.length * D);
  plan.indexInUnique.forEach((u, t) => out.set(feats.subarray(u * D, (u + 1) * D), t * D));
  return out;
}

/** Runs the models on a decoded file and builds its Result (validated against the schema). */
export async function inferDecoded(d: DecodedVideo, models: EnsembleModels, o: ClassifyOptions = {}): Promise<Result> {
  const { manifest, ensemble } = models;
  let backboneMs = 0;
  let headMs = 0;
  const base = d.plans.get(0) ?? d.plans.get(d.views[0]!.shift)!;
  const T = base.plan.timestamps.length;
  const windows = segmentWindows(base.plan, manifest.segments.window, manifest.segments.stride);

  // Features per (backbone, view), computed once and shared by every head on that backbone.
  const features = new Map<string, Float32Array[]>();
  for (const backboneId of new Set(models.heads.map((h) => h.entry.backbone))) {
    const perView: Float32Array[] = [];
    for (const view of d.views) {
      if (o.signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
      const { plan, frames } = d.plans.get(view.shift)!;
      const t0 = performance.now();
      perView.push(await viewFeatures(models, backboneId, plan, frames, view));
      backboneMs += performance.now() - t0;
    }
    features.set(backboneId, perView);
  }

  const members: MemberOutput[] = [];
  for (const head of models.heads) {
    const perView = features.get(head.entry.backbone)!;
    const D = perView[0]!.length / T;
    const t0 = performance.now();
    const views = [];
    for (const f of perView) {
      const r = await head.run(f, 1, T);
      views.push({ logits: r.logits, subLogits: r.subLogits, attention: r.attention });
    }
    // All segment windows in one run: N = windows, T = window length (the unaugmented view).
    const w = windows[0]!.end - windows[0]!.start;
    const batch = new Float32Array(windows.length * w * D);
    windows.forEach((win, i) => batch.set(perView[0]!.subarray(win.start * D, win.end * D), i * w * D));
    const wr = await head.run(batch, windows.length, w);
    const C = wr.logits.length / windows.length;
    const windowLogits = windows.map((_, i) => wr.logits.subarray(i * C, (i + 1) * C));
    headMs += performance.now() - t0;
    members.push({ headId: head.entry.id, views, windowLogits });
  }

  const verdict = buildVerdict(manifest, ensemble, members, windows);
  const size = outputSize(d.info);
  const result = {
    file: d.file,
    ...verdict,
    models: { backbones: [...features.keys()], ensemble: ensemble.id, tta: d.views.length > 1, provider: providerLabel(models) },
    timingsMs: { decode: d.decodeMs, backbone: backboneMs, head: headMs, total: d.decodeMs + backboneMs + headMs },
    video: { durationS: d.info.durationS, width: size.width, height: size.height, decoder: 'ffmpeg' },
  };
  if (!result.subclass) delete (result as { subclass?: unknown }).subclass;
  const parsed = SuccessResultSchema.safeParse(result);
  if (!parsed.success)
    throw new VidkindError('internal', `The result for ${d.file} does not match the Result schema: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Decode + inference of one file; failures become `{file, error}` results. */
export async function classifyFile(file: string, models: EnsembleModels, o: ClassifyOptions = {}): Promise<Result> {
  try {
    return await inferDecoded(await decodeForClassify(file, models, o), models, o);
  } catch (e) {
    return { file, error: toErrorInfo(e) };
  }
}

/** "onnxruntime-node" on the CPU (what the browser's export calls the runtime), else with the device. */
function providerLabel(models: EnsembleModels): string {
  const device = [...models.backbones.values()][0]?.device ?? 'cpu';
  if (device === 'cpu') return 'onnxruntime-node';
  return device === 'webgpu' ? 'onnxruntime-node (webgpu backbones, cpu heads)' : `onnxruntime-node (${device})`;
}
