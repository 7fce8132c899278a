/**
 * TEST MODEL: exports a head with node-trainer's own exporter (headToOnnx) from seeded initial
 * weights (node-trainer's initHeadWeights), so the browser runs exactly the graph `vidkind export`
 * ships (projection + LayerNorm, 4-layer BiLSTM, multi-head self-attention, attention pooling).
 * Untrained: it exercises the pipeline, it classifies nothing.
 * Run with tsx (node-trainer is TypeScript): node --import tsx tests/e2e/export-test-head.mjs <featureDim> <subclasses> <seed> <out.onnx>
 */
import { writeFileSync } from 'node:fs';
import { headToOnnx } from '../../node-trainer/src/export/head-onnx.ts';
import { HeadConfigSchema } from '../../node-trainer/src/head/params.ts';
import { initHeadWeights } from '../../node-trainer/src/train/init.ts';
import { Rng } from '../../node-trainer/src/train/rng.ts';

const [featureDim, subclasses, seed, out] = process.argv.slice(2);
const config = HeadConfigSchema.parse({ featureDim: Number(featureDim), subclasses: Number(subclasses) });
const weights = initHeadWeights(config, new Rng(Number(seed)));
// Glorot-initialised class layers give near-uniform outputs; a seeded spread on the biases makes
// the probabilities differ enough between classes for cross-provider comparisons to mean something.
const rng = new Rng(Number(seed) + 1);
for (const name of ['cls/bias', 'sub/bias']) {
  const b = weights.get(name);
  if (b) for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-1, 1);
}
writeFileSync(out, headToOnnx(config, weights, { 'vidkind.testModel': 'true' }));
