/** Output formats of `vidkind classify`: JSON lines (the browser's JSON export), CSV (src/core), a table for people. */
import { isErrorResult, resultsToCsv, type Result } from '../../../src/core/result.ts';

export const FORMATS = ['jsonl', 'csv', 'table'] as const;
export type Format = (typeof FORMATS)[number];

/** One JSON line per result. */
export function jsonLine(r: Result): string {
  return JSON.stringify(r);
}

export { resultsToCsv };

/** Aligned columns: file, label, confidence, subclass, out-of-distribution flag, time; errors show their code. */
export function resultsTable(results: Result[]): string {
  const rows = results.map((r) =>
    isErrorResult(r)
      ? [r.file, 'ERROR', '', '', '', `${r.error.code}: ${r.error.message}`]
      : [
          r.file,
          r.label,
          `${(r.confidence * 100).toFixed(1)}%`,
          r.subclass ? `${r.subclass.id} (${(r.subclass.p * 100).toFixed(0)}%)` : '',
          r.ood.inDistribution ? '' : 'unsure (out of distribution)',
          `${(r.timingsMs.total / 1000).toFixed(2)} s`,
        ],
  );
  const header = ['file', 'label', 'confidence', 'subclass', 'note', 'time / error'];
  // A control character in a file name or message (a newline is legal in Unix names) would break
  // the table's lines: shown escaped, as JSON writes it.
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const printable = (c: string) => c.replace(/[\u0000-\u001f\u007f]/g, (ch) => JSON.stringify(ch).slice(1, -1));
  const all = [header, ...rows].map((row) => row.map(printable));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  // The last column is not padded: error messages can be long.
  return (
    all
      .map((row) =>
        row
          .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
