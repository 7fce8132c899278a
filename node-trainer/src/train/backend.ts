/** Selects tfjs's wasm backend (the fastest that installs here; see FACTS "Training in Node"). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | null = null;

/** Idempotent: every training or eval entry point awaits this before touching tensors. */
export function initBackend(): Promise<void> {
  ready ??= (async () => {
    if (tf.getBackend() !== 'wasm') {
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('could not initialise the tfjs wasm backend');
    }
    await tf.ready();
  })();
  return ready;
}

export { tf };
