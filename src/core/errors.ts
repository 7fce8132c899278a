/** Stable error codes shared by the browser, the workers and node-trainer. */
export const ERROR_CODES = [
  'unsupported-codec',
  'unsupported-container',
  'corrupt-file',
  'file-unreadable',
  'no-video-track',
  'too-short',
  'file-too-large',
  'cancelled',
  'timeout',
  'model-integrity',
  'model-load',
  'invalid-manifest',
  'inference-failed',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Errors that say nothing about the file itself (the models did not load, the work hung or broke),
 * so the same file may well go through on another try. The others (unreadable, unsupported, too
 * short, too large) fail the same way every time.
 */
const PASSING: ReadonlySet<ErrorCode> = new Set([
  'timeout',
  'model-integrity',
  'model-load',
  'invalid-manifest',
  'inference-failed',
  'internal',
]);

/** Whether trying the same file again can help (see PASSING). */
export function isPassingError(code: ErrorCode): boolean {
  return PASSING.has(code);
}

/** An error as it crosses a worker or process boundary: a stable code and a sentence for people. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** An error value with a stable `code`; thrown inside vidkind, serialised with `toErrorInfo`. */
export class VidkindError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VidkindError';
    this.code = code;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

const UNREADABLE = 'It was moved, deleted or changed after it was picked. Pick it again to classify it.';

/** Turns anything thrown into `{code, message}`; unknown errors become `internal`. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof VidkindError) return { code: error.code, message: error.message };
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown; name?: unknown };
    if (isErrorCode(e.code) && typeof e.message === 'string') return { code: e.code, message: e.message };
    if (e.name === 'AbortError') return { code: 'cancelled', message: 'Cancelled.' };
    // The File API's errors: the picked file was moved, deleted or changed on disk since the pick
    // (the browser then refuses the reference it holds, even once the file is back).
    if (e.name === 'NotReadableError' || e.name === 'NotFoundError') return { code: 'file-unreadable', message: UNREADABLE };
    if (typeof e.message === 'string') return { code: 'internal', message: e.message };
  }
  return { code: 'internal', message: String(error) };
}

/** Rebuilds a throwable error from `{code, message}` (e.g. after a worker boundary). */
export function fromErrorInfo(info: ErrorInfo): VidkindError {
  return new VidkindError(info.code, info.message);
}

/** Throws `cancelled` if the signal has fired. */
export function throwIfCancelled(signal?: { aborted: boolean }): void {
  if (signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
}

/** What `abortable` needs of an AbortSignal (core is typed without the DOM library). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Rejects with `cancelled` as soon as the signal fires, whatever the promise is waiting for (the
 * work behind it goes on); without a signal, the promise itself.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new VidkindError('cancelled', 'Cancelled.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new VidkindError('cancelled', 'Cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
