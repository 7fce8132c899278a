/**
 * The models an ensemble needs, loaded from a models directory for headless inference: every
 * backbone once (onnxruntime-node) and every member head, each file checked against the manifest's
 * sha256 before it is used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VidkindError } from '../../../src/core/errors.ts';
import {
  ensembleModels,
  pickEnsemble,
  verifyModelBytes,
  type EnsembleEntry,
  type HeadEntry,
  type Manifest,
} from '../../../src/core/manifest.ts';
import { openBackbone, type BackboneSession, type Device } from '../backbone-runtime/session.ts';
import { readManifestFile } from '../manifest-file.ts';

export interface HeadSession {
  entry: HeadEntry;
  /** Runs the head on features [n, t, D]. */
  run(features: Float32Array, n: number, t: number): Promise<{ logits: Float32Array; subLogits?: Float32Array; attention?: Float32Array }>;
}

export interface EnsembleModels {
  manifest: Manifest;
  ensemble: EnsembleEntry;
  backbones: Map<string, BackboneSession>;
  heads: HeadSession[];
  release(): Promise<void>;
}

/** Reads the manifest of `modelsDir` and picks the ensemble (named, default, or first). */
export function resolveEnsemble(modelsDir: string, id?: string): { manifest: Manifest; ensemble: EnsembleEntry } {
  if (!existsSync(join(modelsDir, 'manifest.json'))) throw new VidkindError('invalid-manifest', `No manifest.json in ${modelsDir}.`);
  const manifest = readManifestFile(modelsDir);
  return { manifest, ensemble: pickEnsemble(manifest, id) };
}

/** One head, its file checked against the manifest's sha256, in onnxruntime-node. */
export async function openHead(modelsDir: string, entry: HeadEntry, device: Device): Promise<HeadSession & { release(): Promise<void> }> {
  const file = join(modelsDir, entry.file);
  if (!existsSync(file)) throw new VidkindError('model-load', `Head file ${file} (${entry.id}) does not exist.`);
  const bytes = readFileSync(file);
  await verifyModelBytes(entry, bytes);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [device] });
  } catch (e) {
    throw new VidkindError('model-load', `Cannot load head ${entry.id}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const D = (session.inputMetadata.find((m) => m.name === entry.inputs.features) as { shape?: Array<number | string> } | undefined)
    ?.shape?.[2];
  return {
    entry,
    async run(features, n, t) {
      const dim = typeof D === 'number' ? D : features.length / (n * t);
      let out: ort.InferenceSession.ReturnType;
      try {
        out = await session.run({ [entry.inputs.features]: new ort.Tensor('float32', features, [n, t, dim]) });
      } catch (e) {
        throw new VidkindError('inference-failed', `Head ${entry.id} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      const get = (name?: string) => (name ? (out[name]?.data as Float32Array | undefined) : undefined);
      return { logits: get(entry.outputs.logits)!, subLogits: get(entry.outputs.subLogits), attention: get(entry.outputs.attention) };
    },
    release: () => session.release(),
  };
}

/** Loads (and verifies) every model of the ensemble. */
export async function loadEnsembleModels(
  modelsDir: string,
  opts: { ensemble?: string; device?: Device; threads?: number } = {},
): Promise<EnsembleModels> {
  const { manifest, ensemble } = resolveEnsemble(modelsDir, opts.ensemble);
  const { heads, backbones } = ensembleModels(manifest, ensemble);
  const device = opts.device ?? 'cpu';
  const backboneSessions = new Map<string, BackboneSession>();
  const headSessions: Array<HeadSession & { release(): Promise<void> }> = [];
  const release = async () => {
    await Promise.all([...[...backboneSessions.values()].map((b) => b.release()), ...headSessions.map((h) => h.release())]);
  };
  try {
    for (const b of backbones) backboneSessions.set(b.id, await openBackbone(modelsDir, b, { device, threads: opts.threads }));
    // Heads stay on the CPU beside a WebGPU backbone, as in the app: their LSTM is one small GPU
    // program per time step, slower than the CPU (workers/infer/sessions.ts, bench/RESULTS.md).
    for (const h of heads) headSessions.push(await openHead(modelsDir, h, device === 'webgpu' ? 'cpu' : device));
  } catch (e) {
    await release();
    throw e;
  }
  return { manifest, ensemble, backbones: backboneSessions, heads: headSessions, release };
}
