/**
 * The files the user dropped, their progress and their results, as reactive state. Sequencing and
 * cancellation come from src/lib/queue.ts; the classifier from the pipeline store.
 */
import { VidkindError, isPassingError, toErrorInfo, type ErrorCode } from '../../core/errors';
import { isErrorResult, type Result } from '../../core/result';
import type { ClassifyOutput, Progress, Stage } from '../../lib/classifier-types';
import { SequentialQueue, type Job, type JobState } from '../../lib/queue';
import { classifierForFile } from './pipeline.svelte';
import { settingsSnapshot } from './settings.svelte';
import type { PickedFile } from '../dropped-files';
import { thumbnailsToUrls, type FrameImage } from '../frame-images';

export interface Entry {
  id: number;
  /** The name shown to people: the path inside a dropped folder when known. Untrusted text. */
  name: string;
  size: number;
  file: File;
  state: JobState;
  stage: Stage;
  /** 0..1 within the current stage. */
  fraction: number;
  detail?: string;
  result?: Result;
  /** Sampled frames as small images (object URLs), for the row thumbnail and the detail view. */
  frames: FrameImage[];
  durationS?: number;
  fromFeatureCache?: boolean;
}

/** Stages in order, for an overall progress bar per file. */
const STAGE_ORDER: Stage[] = ['queued', 'loading-models', 'decoding', 'features', 'classifying', 'done'];

/** Overall progress of a file, 0..1, from its stage and the stage's fraction. */
export function overallFraction(e: Pick<Entry, 'stage' | 'fraction' | 'state'>): number {
  if (e.state === 'done' || e.state === 'failed') return 1;
  const i = STAGE_ORDER.indexOf(e.stage);
  if (i <= 0) return 0;
  // loading-models, decoding, features, classifying: four equal parts.
  return Math.min(1, (i - 1 + Math.max(0, Math.min(1, e.fraction))) / 4);
}

export const queue = $state({ entries: [] as Entry[] });

function entry(id: number): Entry | undefined {
  return queue.entries.find((e) => e.id === id);
}

async function classifyOne({ file }: PickedFile, ctx: { signal: AbortSignal; onProgress: (p: Progress) => void }): Promise<ClassifyOutput> {
  ctx.onProgress({ stage: 'loading-models', fraction: 0 });
  let classifier;
  // Cancelling while the models load ends this file at once; the loading goes on for the next ones.
  const cancelled = new Promise<never>((_, reject) =>
    ctx.signal.addEventListener('abort', () => reject(new VidkindError('cancelled', 'Cancelled.')), { once: true }),
  );
  cancelled.catch(() => {});
  try {
    classifier = await Promise.race([classifierForFile(settingsSnapshot()), cancelled]);
  } catch (error) {
    const info = toErrorInfo(error);
    return { result: { file: file.name, error: info }, thumbnails: [], durationS: 0, fromFeatureCache: false };
  }
  // Taken once the manifest is known: 'auto' frames resolve to what its heads were trained on. The
  // models may still be loading; the classifier decodes meanwhile and waits for them.
  return classifier.classify(file, settingsSnapshot(), { onProgress: ctx.onProgress, signal: ctx.signal });
}

const runner = new SequentialQueue<PickedFile, Progress, ClassifyOutput>(classifyOne, (job) => void mirror(job));

async function mirror(job: Readonly<Job<PickedFile, Progress, ClassifyOutput>>): Promise<void> {
  let e = entry(job.id);
  if (!e) {
    queue.entries.push({
      id: job.id,
      name: job.input.path,
      size: job.input.file.size,
      file: job.input.file,
      state: 'queued',
      stage: 'queued',
      fraction: 0,
      frames: [],
    });
    e = entry(job.id)!;
  }
  if (job.progress && job.state === 'running') {
    e.stage = job.progress.stage;
    e.fraction = job.progress.fraction;
    e.detail = job.progress.detail;
  }
  if (job.state === e.state) return;
  if (job.state === 'done' && job.output) {
    const { result, thumbnails, durationS, fromFeatureCache } = job.output;
    if (isErrorResult(result) && result.error.code === 'cancelled') {
      e.state = 'cancelled';
      e.stage = 'cancelled';
      return;
    }
    // Frames first, so that a result never appears without its thumbnail.
    const frames = thumbnails.length > 0 ? await thumbnailsToUrls(thumbnails).catch(() => []) : [];
    Object.assign(e, { frames, durationS, fromFeatureCache, result, stage: isErrorResult(result) ? 'error' : 'done', state: 'done' });
    return;
  }
  e.state = job.state;
  if (job.state === 'running' && e.stage === 'queued') e.stage = 'loading-models';
  if (job.state === 'cancelled') {
    e.stage = 'cancelled';
    return;
  }
  if (job.state === 'failed') {
    // The classifier promises error Results instead of throwing; anything thrown is still shown, in words.
    e.stage = 'error';
    e.result = { file: e.name, error: toErrorInfo(job.error) };
  }
}

/** Queues files for classification (one after another). */
export function addFiles(files: PickedFile[]): void {
  runner.add(files);
}

export function cancel(id: number): void {
  runner.cancel(id);
}

export function cancelAll(): void {
  runner.cancelAll();
}

/**
 * Whether a settled file failed for a reason that is not about the file itself (the models did not
 * load, the work timed out). A file that cannot be read fails the same way every time.
 */
export function failedForPassingReason(e: Pick<Entry, 'state' | 'result'>): boolean {
  return (
    e.state !== 'queued' &&
    e.state !== 'running' &&
    e.result !== undefined &&
    isErrorResult(e.result) &&
    isPassingError(e.result.error.code)
  );
}

/** Whether a settled file may be run again: one that was cancelled, or failed for a passing reason. */
export function canRetry(e: Pick<Entry, 'state' | 'result'>): boolean {
  return e.state === 'cancelled' || failedForPassingReason(e);
}

/** Runs a cancelled or failed file again (see canRetry), behind the files already waiting. */
export function retry(id: number): void {
  const e = entry(id);
  if (e && canRetry(e)) requeue(e);
}

/** Whether a finished file can be classified again: it has a verdict, or failed for a passing reason (canRetry). */
export function canRerun(e: Pick<Entry, 'state' | 'result'>): boolean {
  return (e.state === 'done' || e.state === 'failed') && e.result !== undefined && (!isErrorResult(e.result) || failedForPassingReason(e));
}

/** Classifies every finished file again with the current settings ("Classify all again"), in their order. */
export function rerunAll(): void {
  for (const e of queue.entries) if (canRerun(e)) requeue(e);
}

/** Back to the queue: the entry forgets its result and frames, and its job runs behind the waiting ones. */
function requeue(e: Entry): void {
  for (const f of e.frames) URL.revokeObjectURL(f.url);
  Object.assign(e, {
    state: 'queued',
    stage: 'queued',
    fraction: 0,
    detail: undefined,
    result: undefined,
    frames: [],
    durationS: undefined,
    fromFeatureCache: undefined,
  });
  runner.retry(e.id);
}

/** Runs again every file that failed for a passing reason, in their order: "Try all n again" in the results. */
export function retryFailed(): void {
  for (const e of queue.entries) if (failedForPassingReason(e)) requeue(e);
}

/** Runs again every file that failed because the models could not be loaded (after "Try again" on the models). */
export function retryModelFailures(): void {
  for (const e of queue.entries)
    if (failedForPassingReason(e) && e.result && isErrorResult(e.result) && MODEL_CODES.has(e.result.error.code)) requeue(e);
}

const MODEL_CODES: ReadonlySet<ErrorCode> = new Set(['model-load', 'model-integrity', 'invalid-manifest']);

/** Removes finished, failed and cancelled files from the lists (and frees their frame images). */
export function clearFinished(): void {
  runner.clearSettled();
  for (const e of queue.entries) if (e.state !== 'queued' && e.state !== 'running') for (const f of e.frames) URL.revokeObjectURL(f.url);
  queue.entries = queue.entries.filter((e) => e.state === 'queued' || e.state === 'running');
}
