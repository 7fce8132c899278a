/**
 * Runs ffmpeg/ffprobe as child processes with a time limit and cancellation, so that one stuck or
 * hostile file can never hang a batch: on timeout or abort the process is killed and the caller
 * gets a `timeout` or `cancelled` error value.
 */
import { spawn } from 'node:child_process';
import { VidkindError } from '../../../src/core/errors.ts';

export interface ChildOptions {
  /** Kill the process and fail with `timeout` after this many milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with each stdout chunk as it arrives (for streaming raw frames). */
  onStdout?: (chunk: Buffer) => void;
  /** What the process is doing, for the timeout message ("probing", "decoding"). */
  stage: string;
}

export interface ChildResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Stderr is kept to its tail: ffmpeg can log megabytes for a broken file and only the end matters. */
const STDERR_LIMIT = 64 * 1024;

/** Spawns `cmd args`, resolving with its exit code and output (a non-zero exit is not an error here). */
export function runChild(cmd: string, args: string[], opts: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new VidkindError('cancelled', 'Cancelled.'));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() =>
        reject(new VidkindError('timeout', `ffmpeg took longer than ${Math.round(opts.timeoutMs / 1000)} s ${opts.stage} this file.`)),
      );
    }, opts.timeoutMs);
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(() => reject(new VidkindError('cancelled', 'Cancelled.')));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => (opts.onStdout ? opts.onStdout(chunk) : out.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      if (err.length > STDERR_LIMIT * 2) err = err.slice(-STDERR_LIMIT);
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          e.code === 'ENOENT'
            ? new VidkindError('internal', `${cmd} was not found on PATH; install ffmpeg (e.g. apt install ffmpeg).`)
            : new VidkindError('internal', `could not run ${cmd}: ${e.message}`),
        ),
      ),
    );
    child.on('close', (code) => finish(() => resolve({ code, stdout: Buffer.concat(out), stderr: err.slice(-STDERR_LIMIT) })));
  });
}
