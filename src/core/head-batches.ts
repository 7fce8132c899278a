/**
 * Packing features into head batches and unpacking the head's outputs: every TTA view in one
 * batch [V, T, D], every segment window in one batch [W, w, D]. Pure, so it is unit-tested.
 */
import type { SegmentWindow } from './sampling';
import type { MemberOutput } from './verdict';

/** Batched outputs of one head run, as the infer worker returns them. */
export interface HeadBatchOutput {
  logits: Float32Array;
  classes: number;
  subLogits?: Float32Array;
  subclasses?: number;
  attention?: Float32Array;
}

/** [V, T, D] from one [T, D] block per view. */
export function batchViews(perView: Float32Array[], T: number, D: number): Float32Array {
  const batch = new Float32Array(perView.length * T * D);
  perView.forEach((f, v) => {
    if (f.length !== T * D) throw new RangeError(`view ${v} has ${f.length} features, expected ${T}x${D}`);
    batch.set(f, v * T * D);
  });
  return batch;
}

/** [W, w, D]: the frames of each window, cut from the plain view's [T, D] features. All windows have the same length. */
export function batchWindows(plain: Float32Array, windows: SegmentWindow[], D: number): { batch: Float32Array; length: number } {
  const length = windows[0] ? windows[0].end - windows[0].start : 0;
  const batch = new Float32Array(windows.length * length * D);
  windows.forEach((win, j) => {
    if (win.end - win.start !== length) throw new RangeError('segment windows differ in length');
    batch.set(plain.subarray(win.start * D, win.end * D), j * length * D);
  });
  return { batch, length };
}

/** Splits a head's batched outputs back into per-view outputs and per-window logits. */
export function memberOutput(headId: string, full: HeadBatchOutput, windows: HeadBatchOutput, nViews: number, T: number): MemberOutput {
  const C = full.classes;
  const S = full.subclasses ?? 0;
  return {
    headId,
    views: Array.from({ length: nViews }, (_, v) => ({
      logits: full.logits.subarray(v * C, (v + 1) * C),
      subLogits: full.subLogits?.subarray(v * S, (v + 1) * S),
      attention: full.attention?.subarray(v * T, (v + 1) * T),
    })),
    windowLogits: Array.from({ length: windows.logits.length / windows.classes }, (_, j) =>
      windows.logits.subarray(j * windows.classes, (j + 1) * windows.classes),
    ),
  };
}
