/**
 * How the base folder's default models (the site's own, for `--base public/models`) do on the
 * videos `vidkind fit` trains on, from the features fit already extracted: the figure a user weighs
 * their own models' cross-validation against. Each clip is seen through the frames the app samples
 * (the stored frames nearest those times, as `vidkind eval --frames` does), each head runs in
 * onnxruntime-node, and the verdict is the app's (src/core/verdict.ts).
 */
import { buildVerdict } from '../../../src/core/verdict.ts';
import { CLASS_IDS, type ClassId } from '../../../src/core/taxonomy.ts';
import { openHead, resolveEnsemble } from '../classify/ensemble-models.ts';
import { classificationMetrics } from '../eval/metrics.ts';
import { readIndex, readItemFeatures, readStoreInfo } from '../features/store.ts';
import { binFrames } from '../train/data.ts';

export interface BaseScore {
  ensemble: string;
  name: string;
  clips: number;
  accuracy: number;
  macroF1: number;
}

/** Clips per head run. */
const BATCH = 64;

/**
 * Scores the default ensemble of `modelsDir` on the clips of `stores` (backbone id -> feature store
 * holding the same clips). Null when one of its heads needs a backbone that has no store here.
 */
export async function scoreBaseModels(modelsDir: string, stores: ReadonlyMap<string, string>): Promise<BaseScore | null> {
  const { manifest, ensemble } = resolveEnsemble(modelsDir);
  const heads = ensemble.members.map((id) => manifest.heads.find((h) => h.id === id)!);
  if (heads.some((h) => !stores.has(h.backbone))) return null;
  const items = readIndex(stores.get(heads[0]!.backbone)!).sort((a, b) => a.key.localeCompare(b.key));
  if (items.length === 0) return null;
  const logits: Float32Array[][] = items.map(() => []);
  for (const head of heads) {
    const store = stores.get(head.backbone)!;
    const { frames: stored, dim } = readStoreInfo(store);
    const pick = binFrames(stored, Math.min(head.frames, stored));
    const t = pick.length;
    const session = await openHead(modelsDir, head, 'cpu');
    try {
      for (let start = 0; start < items.length; start += BATCH) {
        const chunk = items.slice(start, start + BATCH);
        const x = new Float32Array(chunk.length * t * dim);
        chunk.forEach((it, r) => {
          const all = readItemFeatures(store, it.key);
          pick.forEach((f, j) => x.set(all.subarray(f * dim, (f + 1) * dim), (r * t + j) * dim));
        });
        const out = await session.run(x, chunk.length, t);
        const C = out.logits.length / chunk.length;
        chunk.forEach((_, r) => logits[start + r]!.push(out.logits.slice(r * C, (r + 1) * C)));
      }
    } finally {
      await session.release();
    }
  }
  const truth = items.map((it) => CLASS_IDS.indexOf(it.class as ClassId));
  const pred = items.map((_, i) => {
    const members = heads.map((h, k) => ({ headId: h.id, views: [{ logits: logits[i]![k]! }], windowLogits: [] }));
    return CLASS_IDS.indexOf(buildVerdict(manifest, ensemble, members, []).label);
  });
  const m = classificationMetrics(truth, pred, CLASS_IDS.length);
  return { ensemble: ensemble.id, name: ensemble.name, clips: items.length, accuracy: m.accuracy, macroF1: m.macroF1 };
}
