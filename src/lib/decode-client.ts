/**
 * Main-thread client of workers/decode.worker.ts: Comlink calls with progress, streamed frames and
 * AbortSignal cancellation; errors come back as VidkindError. A crashed or stuck worker is
 * terminated and a fresh one serves the next file: a call that shows no progress (no frame, no
 * progress report) for `decodeStallMs` (src/lib/watchdog.ts) fails with `timeout`.
 */
import * as Comlink from 'comlink';
import { fromErrorInfo, toErrorInfo, VidkindError } from '../core/errors';
import { formatLimit, stageLimits, startWatchdog, type StageLimits, type Watchdog } from './watchdog';
import type {
  DecodedFrame,
  DecodeOutput,
  DecodeProgress,
  DecodeRequest,
  DecodeWorkerApi,
  ProbeOptions,
  VideoInfo,
} from '../../workers/decode/api';

export type { DecodedFrame, DecoderKind, DecodeOutput, DecodeProgress, DecodeRequest, VideoInfo } from '../../workers/decode/api';

export interface DecodeCallOptions {
  onProgress?: (p: DecodeProgress) => void;
  /** Receives each frame as soon as it is decoded; the output's `frames` is then empty. */
  onFrame?: (f: DecodedFrame) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface DecodeClient {
  /** Reads a file's headers: size, duration, codec, and which decoder will read it. */
  probe(file: File, options?: ProbeOptions & { signal?: AbortSignal }): Promise<VideoInfo>;
  /** Decodes the frames of the sampling plan(s); rejects with VidkindError (code 'cancelled' on abort). */
  decode(file: File, request: Omit<DecodeRequest, 'jobId'>, options?: DecodeCallOptions): Promise<DecodeOutput>;
  /** Ends the worker; the client may still be used (a new worker starts on the next call). */
  dispose(): void;
}

/** How long a cancelled call may take to wind down before its worker is terminated. */
const CANCEL_GRACE_MS = 1000;

export interface DecodeClientOptions {
  /** Stall limit; by default `stageLimits()` at each call (the defaults, or the stored override). */
  limits?: Pick<StageLimits, 'decodeStallMs'>;
  /** The worker to start (tests); by default workers/decode.worker.ts. */
  createWorker?: () => Worker;
}

const startDecodeWorker = () =>
  new Worker(new URL('../../workers/decode.worker.ts', import.meta.url), { type: 'module', name: 'vidkind-decode' });

/** Creates a client; the worker starts on the first call. */
export function createDecodeClient(options: DecodeClientOptions = {}): DecodeClient {
  let worker: Worker | null = null;
  let remote: Comlink.Remote<DecodeWorkerApi> | null = null;
  const pending = new Set<(error: VidkindError) => void>();
  let jobCounter = 0;

  function stopWorker(reason: VidkindError): void {
    worker?.terminate();
    worker = null;
    remote = null;
    for (const reject of [...pending]) reject(reason);
    pending.clear();
  }

  function ensureWorker(): Comlink.Remote<DecodeWorkerApi> {
    if (!worker || !remote) {
      worker = (options.createWorker ?? startDecodeWorker)();
      const crashed = (event: Event) => {
        const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : '';
        stopWorker(new VidkindError('internal', `The decoder stopped unexpectedly${detail}. The next file will use a fresh one.`));
      };
      worker.addEventListener('error', crashed);
      worker.addEventListener('messageerror', crashed);
      remote = Comlink.wrap<DecodeWorkerApi>(worker);
    }
    return remote;
  }

  /**
   * Runs one worker call; settles on its result, on a worker crash, shortly after `signal` fires,
   * or with `timeout` when the watchdog sees no progress for the stall limit (the worker is then
   * terminated: whatever it is stuck in cannot be interrupted from outside).
   */
  function call<T>(
    start: (api: Comlink.Remote<DecodeWorkerApi>, watchdog: Watchdog) => Promise<T>,
    signal?: AbortSignal,
    onAbort?: () => void,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(new VidkindError('cancelled', 'Cancelled.'));
    const api = ensureWorker();
    const owner = worker;
    const limitMs = (options.limits ?? stageLimits()).decodeStallMs;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const watchdog = startWatchdog(limitMs, () => {
        const error = new VidkindError(
          'timeout',
          `The decoder made no progress on this file for ${formatLimit(limitMs)} and was stopped (the file may be damaged in a way that stalls it). The next file uses a fresh decoder.`,
        );
        if (worker === owner) stopWorker(error);
        else fail(error);
      });
      const settle = () => {
        pending.delete(fail);
        signal?.removeEventListener('abort', aborted);
        clearTimeout(timer);
        watchdog.stop();
      };
      const fail = (error: VidkindError) => {
        settle();
        reject(error);
      };
      const aborted = () => {
        onAbort?.();
        // The worker stops between frames; if it is stuck inside a decoder call, end it.
        timer = setTimeout(() => {
          if (worker === owner) stopWorker(new VidkindError('cancelled', 'Cancelled.'));
          else fail(new VidkindError('cancelled', 'Cancelled.'));
        }, CANCEL_GRACE_MS);
      };
      pending.add(fail);
      signal?.addEventListener('abort', aborted, { once: true });
      start(api, watchdog).then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(signal?.aborted ? new VidkindError('cancelled', 'Cancelled.') : fromErrorInfo(toErrorInfo(error)));
        },
      );
    });
  }

  return {
    probe(file, options = {}) {
      const { signal, ...probeOptions } = options;
      return call((api) => api.probe(file, probeOptions), signal);
    },

    decode(file, request, options = {}) {
      const jobId = `job-${++jobCounter}`;
      const { onProgress, onFrame, signal } = options;
      let api: Comlink.Remote<DecodeWorkerApi> | null = null;
      return call(
        (a, watchdog) => {
          api = a;
          // Every frame and progress report is progress; the time our frame callback takes (the
          // backbone, which has its own limit, applying back-pressure) is not the decoder's.
          const progress = (p: DecodeProgress) => {
            watchdog.progress();
            onProgress?.(p);
          };
          const frame = async (f: DecodedFrame) => {
            watchdog.pause();
            try {
              await onFrame!(f);
            } finally {
              watchdog.resume();
            }
          };
          return a.decode(
            file,
            { ...request, jobId },
            Comlink.proxy(progress),
            onFrame ? Comlink.proxy(frame) : undefined,
          ) as Promise<DecodeOutput>;
        },
        signal,
        () => void (api as Comlink.Remote<DecodeWorkerApi> | null)?.cancel(jobId).catch(() => undefined),
      );
    },

    dispose() {
      stopWorker(new VidkindError('cancelled', 'The decoder was closed.'));
    },
  };
}
