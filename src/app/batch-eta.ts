/** How long a batch of files has left, from its pace so far (the queue's status line). */

/**
 * Milliseconds left: the files still to do at the pace of those done since the batch began. Null
 * until a whole file's worth of work is done, when there is nothing to go by yet.
 */
export function timeLeftMs(doneFiles: number, totalFiles: number, elapsedMs: number): number | null {
  if (doneFiles < 1 || elapsedMs <= 0 || totalFiles <= doneFiles) return null;
  return ((totalFiles - doneFiles) * elapsedMs) / doneFiles;
}

/** "about 40 s left", "about 3 min left", "about 1 h 20 min left": rounded, as an estimate should be. */
export function timeLeftText(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return 'a few seconds left';
  if (s < 60) return `about ${Math.round(s / 10) * 10} s left`;
  const min = Math.round(s / 60);
  if (min < 60) return `about ${min} min left`;
  const h = Math.floor(min / 60);
  return `about ${h} h${min % 60 ? ` ${min % 60} min` : ''} left`;
}
