/**
 * Many files through one loaded ensemble, in order, with the next files' decodes (ffmpeg child
 * processes, `decodeAhead` at a time) overlapping the current file's inference. A file that fails yields an error Result and
 * the batch goes on; a model that fails to load or verify yields that error for every file.
 */
import { VidkindError, toErrorInfo } from '../../../src/core/errors.ts';
import type { Result } from '../../../src/core/result.ts';
import type { Device } from '../backbone-runtime/session.ts';
import type { DecodeStrategy } from '../decode/frames.ts';
import { AheadQueue, defaultDecodeAhead } from '../decode/ahead.ts';
import { decodeForClassify, inferDecoded } from './classify-file.ts';
import { loadEnsembleModels, type EnsembleModels } from './ensemble-models.ts';

export interface ClassifyFilesOptions {
  models: string;
  ensemble?: string;
  tta?: boolean;
  device?: Device;
  strategy?: DecodeStrategy;
  threads?: number;
  /** Files decoded ahead of inference (default: defaultDecodeAhead(), as `vidkind extract`). */
  decodeAhead?: number;
  signal?: AbortSignal;
  /** Each result as soon as it is known, in input order. */
  onResult?: (r: Result, index: number) => void;
}

/** Classifies `files`; resolves with every result (one per file unless cancelled). */
export async function classifyFiles(files: string[], o: ClassifyFilesOptions): Promise<{ results: Result[]; cancelled: boolean }> {
  const results: Result[] = [];
  const emit = (r: Result) => {
    results.push(r);
    o.onResult?.(r, results.length - 1);
  };
  let models: EnsembleModels;
  try {
    models = await loadEnsembleModels(o.models, { ensemble: o.ensemble, device: o.device, threads: o.threads });
  } catch (e) {
    const error = toErrorInfo(e);
    for (const file of files) emit({ file, error });
    return { results, cancelled: false };
  }
  const opts = { tta: o.tta, strategy: o.strategy, signal: o.signal };
  let cancelled = false;
  const queue = new AheadQueue(
    files,
    o.decodeAhead ?? defaultDecodeAhead(),
    (file: string) => decodeForClassify(file, models, opts),
    () => !!o.signal?.aborted,
  );
  try {
    for (let i = 0; i < files.length; i++) {
      const current = await queue.next();
      let result: Result;
      try {
        if (o.signal?.aborted) throw new VidkindError('cancelled', 'Cancelled.');
        if (!current.ok) throw current.error;
        result = await inferDecoded(current.value, models, opts);
      } catch (e) {
        result = { file: files[i]!, error: toErrorInfo(e) };
      }
      if (result && 'error' in result && result.error.code === 'cancelled') {
        cancelled = true;
        break;
      }
      emit(result);
    }
    await queue.drain();
  } finally {
    await models.release();
  }
  return { results, cancelled };
}
