/** Runs one ensemble member inside a worker thread and reports to the parent (ensemble.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { MemberJob, MemberMessage } from './ensemble.ts';
import { trainHead } from './loop.ts';

const job = workerData as MemberJob;
const post = (m: MemberMessage) => parentPort!.postMessage(m);
let stop = false;
parentPort!.on('message', (m) => {
  if (m === 'stop') stop = true;
});
try {
  const result = await trainHead({
    ...job,
    shouldStop: () => stop,
    onProgress: (progress) => post({ type: 'progress', progress }),
    onEpoch: (record) => post({ type: 'epoch', record }),
  });
  post({ type: 'done', result });
} catch (e) {
  const err = e as { code?: unknown; message?: unknown };
  post({ type: 'error', code: typeof err.code === 'string' ? err.code : 'internal', message: String(err.message ?? e) });
}
parentPort!.close();
