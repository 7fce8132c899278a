import { describe, expect, it } from 'vitest';
import { parseResult, type Result } from '../../../src/core/result';
import { exportFileName, exportResults, resultsToJson, resultsToJsonl } from '../../../src/lib/export';

const ok: Result = {
  file: 'folder/<b>clip</b>,"1".mp4',
  label: 'flat',
  confidence: 0.8,
  probs: { animation: 0.1, gaming: 0.05, natural: 0.05, flat: 0.8 },
  subclass: { id: 'slides', p: 0.6 },
  ood: { score: 0.4, inDistribution: true },
  segments: [{ t0: 0, t1: 4, probs: { animation: 0.1, gaming: 0.05, natural: 0.05, flat: 0.8 } }],
  attention: [0.25, 0.75],
  models: { backbones: ['mobilenet-v2'], ensemble: 'default', tta: true, provider: 'wasm' },
  timingsMs: { decode: 10, backbone: 20, head: 3, total: 33 },
};
const bad: Result = { file: 'broken.mp4', error: { code: 'corrupt-file', message: 'The file is damaged.' } };

describe('exports', () => {
  it('JSON is an array of Results that round-trips through the schema', () => {
    const parsed = JSON.parse(resultsToJson([ok, bad])) as unknown[];
    expect(parsed).toHaveLength(2);
    expect(parsed.map((r) => parseResult(r))).toEqual([ok, bad]);
  });

  it('JSON lines has one Result per line and nothing for no results', () => {
    const lines = resultsToJsonl([ok, bad]).trimEnd().split('\n');
    expect(lines.map((l) => parseResult(JSON.parse(l)))).toEqual([ok, bad]);
    expect(resultsToJsonl([])).toBe('');
  });

  it('CSV goes through the core writer, with quoting and a row per file', () => {
    const { text, mime } = exportResults([ok, bad], 'csv');
    expect(mime).toMatch(/^text\/csv/);
    const rows = text.trimEnd().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('"folder/<b>clip</b>,""1"".mp4",flat,0.8000');
    expect(rows[2]).toContain('corrupt-file');
  });

  it('file names carry the format and a sortable local time stamp', () => {
    expect(exportFileName('jsonl', new Date(2026, 10, 5, 7, 8, 9))).toBe('vidkind-results-2026-11-05T07-08-09.jsonl');
  });
});
