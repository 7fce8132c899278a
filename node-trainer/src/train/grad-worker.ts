/** A gradient worker (step.ts): serves its shards, reductions and updates on the shared state. */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './backend.ts';
import {
  clipSetView,
  flatState,
  normTensors,
  serveRequest,
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
    params: viewsOf(init.flat.params, sizes),
    set: clipSetView(init),
    c: init.c,
    stats: init.stats,
    anchor: init.anchor,
  };
  const norm = normTensors(init.stats);
  const flat = flatState(init.flat);
  parentPort!.on('message', (req: GradRequest) => {
    try {
      post({ id: req.id, losses: serveRequest(ctx, norm, flat, req) });
    } catch (e) {
      post({ id: req.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  post('ready');
} catch (e) {
  post({ error: e instanceof Error ? e.message : String(e) });
}
