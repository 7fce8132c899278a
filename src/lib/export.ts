/**
 * Exports of results: CSV (the core's `resultsToCsv`), JSON (an array of `Result`s) and JSON lines
 * (one `Result` per line, the same as `vidkind classify --format jsonl`).
 */
import { resultsToCsv, type Result } from '../core/result';

export type ExportFormat = 'csv' | 'json' | 'jsonl';

export function resultsToJson(results: Result[]): string {
  return JSON.stringify(results, null, 2) + '\n';
}

export function resultsToJsonl(results: Result[]): string {
  return results.map((r) => JSON.stringify(r)).join('\n') + (results.length > 0 ? '\n' : '');
}

const MIME: Record<ExportFormat, string> = {
  csv: 'text/csv;charset=utf-8',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
};

/** The export text and its MIME type for one format. */
export function exportResults(results: Result[], format: ExportFormat): { text: string; mime: string } {
  const text = format === 'csv' ? resultsToCsv(results) : format === 'json' ? resultsToJson(results) : resultsToJsonl(results);
  return { text, mime: MIME[format] };
}

/** A file name like `vidkind-results-2026-11-25T21-50-03.json` (local time, no characters hosts dislike). */
export function exportFileName(format: ExportFormat, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}-${pad(now.getMinutes())}-${pad(now.getSeconds())}`;
  return `vidkind-results-${stamp}.${format}`;
}

/** Saves text as a download through a temporary object URL (nothing leaves the device). */
export function downloadText(text: string, mime: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke after the click has been handled; revoking synchronously cancels the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
