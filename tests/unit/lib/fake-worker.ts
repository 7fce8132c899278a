/**
 * Fake workers for the clients' unit tests: Comlink endpoints on a MessageChannel that expose an
 * API the test scripts, so that the client code under test is the real one.
 */
import * as Comlink from 'comlink';

/** Starts fake workers exposing `makeApi(n)` (n = 0 for the first worker started, 1 for the next, ...). */
export function workerFactory(makeApi: (n: number) => object) {
  const started: Array<{ terminated: boolean }> = [];
  const ports: MessagePort[] = [];
  const createWorker = () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    Comlink.expose(makeApi(started.length), port2);
    const state = { terminated: false };
    started.push(state);
    const worker = {
      postMessage: (m: unknown, transfer?: Transferable[]) => port1.postMessage(m, transfer ?? []),
      addEventListener: port1.addEventListener.bind(port1),
      removeEventListener: port1.removeEventListener.bind(port1),
      start: () => port1.start(),
      terminate: () => {
        state.terminated = true;
        port1.close();
        port2.close();
      },
    };
    return worker as unknown as Worker;
  };
  return { createWorker, started, close: () => ports.forEach((p) => p.close()) };
}
