/**
 * A head to start from and stay near (the training config's `anchor`): a stats head of a models
 * folder (the site's own, for `vidkind fit`), read back from its ONNX file. Training then learns a
 * difference from it: the weights are anchor + delta, delta starts at 0, and weight decay pulls
 * delta (not the weights) towards 0. With few videos a head stays close to one trained on the whole
 * corpus; with many, the videos decide. The ONNX file holds the weights on raw features (the input
 * statistics folded in, train/standardize.ts); unfoldInputStats takes them back to the run's own
 * standardised inputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyModelBytes } from '../../../src/core/manifest.ts';
import { CLASS_IDS } from '../../../src/core/taxonomy.ts';
import type { Anchor } from './config.ts';
import { SUBCLASS_KEYS } from './data.ts';
import { decodeModel, floatData } from '../backbone/onnx-graph.ts';
import { readManifestFile } from '../manifest-file.ts';
import { headParamShapes, type HeadConfig, type HeadWeights } from '../head/params.ts';

/**
 * The anchor's weights on raw features, checked against this run: a stats head on the same
 * backbone, with the same feature size, classes and subclasses, its file matching the manifest.
 * Throws an Error that says which of these does not hold.
 */
export async function readAnchorWeights(a: Anchor, run: { head: HeadConfig; backbone: string }): Promise<HeadWeights> {
  const what = `the anchor head "${a.head}" of ${a.models}`;
  if (!existsSync(join(a.models, 'manifest.json'))) throw new Error(`${what}: no manifest.json there`);
  const entry = readManifestFile(a.models).heads.find((h) => h.id === a.head);
  if (!entry) throw new Error(`${what}: no such head in its manifest.json`);
  if (run.head.kind !== 'stats') throw new Error(`${what}: only a "stats" head can start from another head`);
  if (entry.backbone !== run.backbone) throw new Error(`${what} runs on ${entry.backbone}, this run's features are ${run.backbone}`);
  if (entry.classes.join('|') !== CLASS_IDS.join('|')) throw new Error(`${what} has other classes than this run`);
  if (run.head.subclasses > 0 && entry.subclasses.join('|') !== SUBCLASS_KEYS.join('|'))
    throw new Error(`${what} has other subclasses than this run`);
  const file = join(a.models, entry.file);
  if (!existsSync(file)) throw new Error(`${what}: its file ${file} does not exist`);
  const bytes = readFileSync(file);
  await verifyModelBytes(entry, bytes);
  const inits = new Map((decodeModel(bytes, file).graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const w: HeadWeights = new Map();
  for (const { name, shape } of headParamShapes(run.head)) {
    const t = inits.get(name);
    const dims = (t?.dims ?? []).map(Number);
    if (!t || dims.join('x') !== shape.join('x'))
      throw new Error(
        `${what} is not a stats head of this shape: "${name}" is ${t ? dims.join('x') : 'missing'}, this run needs ${shape.join('x')}`,
      );
    w.set(name, floatData(t, file));
  }
  return w;
}
