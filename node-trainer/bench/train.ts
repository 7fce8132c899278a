/**
 * Training speed of the default head: seconds per step (B=32, T=32, D=1280) and per epoch of 3,000
 * clips, on synthetic random features (timing only). Prints one JSON line per measurement.
 *   node --import tsx node-trainer/bench/train.ts [--steps 5] [--clips 3000] [--config '{"lstmLayers":2}'] [--threads N]
 * The step runs as `vidkind train` runs it: config.shards gradient shards on up to --threads threads.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { headParamShapes } from '../src/head/params.ts';
import { initBackend, tf } from '../src/train/backend.ts';
import { parseTrainConfig } from '../src/train/config.ts';
import type { ClipSet } from '../src/train/data.ts';
import { encodeHalf } from '../src/features/float16.ts';
import { initHeadWeights } from '../src/train/init.ts';
import { headConfigFor } from '../src/train/loop.ts';
import { StepRunner } from '../src/train/step.ts';
import { newAdamWState } from '../src/train/optim.ts';
import { Rng } from '../src/train/rng.ts';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    clips: { type: 'string', default: '3000' },
    frames: { type: 'string', default: '32' },
    dim: { type: 'string', default: '1280' },
    config: { type: 'string', default: '{}' },
    /** Threads for the gradient shards (as `vidkind train --threads`; default: every core). */
    threads: { type: 'string' },
  },
});
const steps = Number(a.steps);
const clips = Number(a.clips);
const T = Number(a.frames);
const D = Number(a.dim);
const c = parseTrainConfig(JSON.parse(a.config!));

await initBackend();
const head = headConfigFor(c, D);
const rng = new Rng(c.seed);
const shapesList = headParamShapes(head);
const w = initHeadWeights(head, rng);
const params = shapesList.map((s) => w.get(s.name)!);
const adam = newAdamWState(params);
// One batch worth of random clips is enough for timing: the step's cost does not depend on values.
const pool = c.batch;
const set: ClipSet = {
  frames: T,
  dim: D,
  keys: Array.from({ length: pool }, (_, i) => String(i)),
  sources: Array.from({ length: pool }, (_, i) => `source${i}`),
  labels: Int32Array.from({ length: pool }, (_, i) => i % head.classes),
  subLabels: Int32Array.from({ length: pool }, (_, i) => (i % 3 === 0 ? -1 : i % head.subclasses)),
  half: Array.from({ length: pool }, () => encodeHalf(Float32Array.from({ length: T * D }, () => rng.uniform(-1, 1)))),
};
const idx = Array.from({ length: c.batch }, (_, i) => i);
const names = shapesList.map((s) => s.name);
const shapes = shapesList.map((s) => s.shape);
const threads = a.threads === undefined ? availableParallelism() : Number(a.threads);
const runner = await StepRunner.start({ head, names, shapes, params, set, c }, adam, threads);
const run = () => runner.step(idx, rng, c.lr, adam);

await run(); // warm-up: wasm compilation and first allocations
const times: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await run();
  const dc = process.cpuUsage(c0);
  times.push((performance.now() - t0) / 1000);
  // CPU time of this process: on a shared, oversubscribed machine it stays close to the wall time
  // the step would take alone, while the wall time grows with the load.
  cpus.push((dc.user + dc.system) / 1e6);
}
cpus.sort((x, y) => x - y);
const cpuMedian = cpus[Math.floor(cpus.length / 2)]!;
times.sort((x, y) => x - y);
const median = times[Math.floor(times.length / 2)]!;
const stepsPerEpoch = Math.ceil(clips / c.batch);
const common = {
  backend: tf.getBackend(),
  loadavg1: +loadavg()[0]!.toFixed(2),
  B: c.batch,
  T,
  D,
  projDim: c.projDim,
  lstmHidden: c.lstmHidden,
  lstmLayers: c.lstmLayers,
  params: params.reduce((s, p) => s + p.length, 0),
  shards: c.shards,
  threads: runner.threads,
};
console.log(
  JSON.stringify({
    bench: 'train-step',
    ...common,
    steps,
    medianS: +median.toFixed(4),
    cpuMedianS: +cpuMedian.toFixed(4),
    minS: +times[0]!.toFixed(4),
    maxS: +times.at(-1)!.toFixed(4),
  }),
);
console.log(
  JSON.stringify({
    bench: 'train-epoch',
    ...common,
    clips,
    stepsPerEpoch,
    estimatedS: +(median * stepsPerEpoch).toFixed(1),
    estimatedCpuS: +(cpuMedian * stepsPerEpoch).toFixed(1),
    tensorsAlive: tf.memory().numTensors,
  }),
);
await runner.close();
