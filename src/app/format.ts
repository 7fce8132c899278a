/** Small formatting helpers for the UI: percentages, times, sizes, stage and error wording. */
import type { ErrorCode } from '../core/errors';
import { DEFAULT_TAXONOMY, className, type ClassId, type Taxonomy } from '../core/taxonomy';
import type { Stage } from '../lib/classifier-types';

export function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

/** 1955 -> "1,955": counts read in English, like the rest of the page. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Like `clock`, with tenths of a second: for frame times in short videos ("0:01.5"). */
export function clockTenths(seconds: number): string {
  const s = Math.max(0, seconds);
  const whole = Math.floor(s);
  return `${clock(whole)}.${Math.floor((s - whole) * 10)}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export const STAGE_LABEL: Record<Stage, string> = {
  queued: 'Waiting',
  'loading-models': 'Loading models',
  decoding: 'Decoding frames',
  features: 'Extracting features',
  classifying: 'Classifying',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

/** A headline for each error code; the Result's own message follows it with the details. */
export const ERROR_HEADLINE: Record<ErrorCode, string> = {
  'unsupported-codec': "This browser can't decode this video's format",
  'unsupported-container': "This file type isn't supported",
  'corrupt-file': 'The file is damaged or incomplete',
  'file-unreadable': 'The file could no longer be read',
  'no-video-track': 'There is no video in this file',
  'too-short': 'The video is too short to classify',
  'file-too-large': 'The file is too large',
  cancelled: 'Cancelled',
  timeout: 'It took too long',
  'model-integrity': "The model files don't match what was expected",
  'model-load': "The models couldn't be loaded",
  'invalid-manifest': 'The model list is broken',
  'inference-failed': 'The model failed on this video',
  internal: 'Something went wrong',
};

/** Display name of a class, from the loaded models' taxonomy or the default one. */
export function classLabel(id: ClassId, taxonomy: Taxonomy = DEFAULT_TAXONOMY): string {
  try {
    return className(taxonomy, id);
  } catch {
    return id;
  }
}

/** Display name of a subclass of a class ("2D cartoon"), falling back to its id. */
export function subclassLabel(classId: ClassId, subId: string, taxonomy: Taxonomy = DEFAULT_TAXONOMY): string {
  return taxonomy.classes.find((c) => c.id === classId)?.subclasses.find((s) => s.id === subId)?.name ?? subId;
}
