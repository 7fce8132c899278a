/** A gradient worker (step.ts): computes the shards it is sent on the shared parameters and clips. */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend.ts';
import { Rng } from './rng.ts';
import {
  batchGradients,
  clipSetView,
  normTensors,
  viewsOf,
  type GradReply,
  type GradRequest,
  type GradWorkerInit,
  type StepContext,
} from './step.ts';

const init = workerData as GradWorkerInit;
const post = (m: GradReply | 'ready' | { error: string }) => parentPort!.postMessage(m);
try {
  await initBackend();
  const sizes = init.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const ctx: StepContext = {
    head: init.head,
    names: init.names,
    shapes: init.shapes,
    params: viewsOf(init.params, sizes),
    set: clipSetView(init),
    c: init.c,
    stats: init.stats,
  };
  const norm = normTensors(init.stats);
  const out = init.grads.map((g) => viewsOf(g, sizes));
  parentPort!.on('message', (req: GradRequest) => {
    try {
      const losses = req.jobs.map((job) => {
        const r = batchGradients(ctx, norm, job.idx, new Rng(job.seed), req.den);
        r.grads.forEach((g, p) => out[job.k]![p]!.set(g));
        return r.loss;
      });
      post({ id: req.id, losses });
    } catch (e) {
      post({ id: req.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  post('ready');
} catch (e) {
  post({ error: e instanceof Error ? e.message : String(e) });
}
