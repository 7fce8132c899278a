import { describe, expect, it } from 'vitest';
import { parseResult, resultsToCsv, type Result } from '../../../src/core/result';

const ok: Result = {
  file: 'clip,"1".mp4',
  label: 'gaming',
  confidence: 0.9,
  probs: { animation: 0.05, gaming: 0.9, natural: 0.03, flat: 0.02 },
  subclass: { id: 'strategy', p: 0.7 },
  ood: { score: 0.3, inDistribution: true },
  segments: [{ t0: 0, t1: 5, probs: { animation: 0.05, gaming: 0.9, natural: 0.03, flat: 0.02 } }],
  attention: [0.5, 0.5],
  models: { backbones: ['mobilenet-v2'], ensemble: 'default', tta: false },
  timingsMs: { decode: 1, backbone: 2, head: 3, total: 6 },
};

describe('Result schema', () => {
  it('accepts results and errors', () => {
    expect(parseResult(ok)).toEqual(ok);
    expect(parseResult({ file: 'x', error: { code: 'corrupt-file', message: 'Broken.' } })).toBeTruthy();
  });

  it('rejects unknown labels, codes and out-of-range probabilities', () => {
    expect(() => parseResult({ ...ok, label: 'music' })).toThrow();
    expect(() => parseResult({ ...ok, confidence: 1.5 })).toThrow();
    expect(() => parseResult({ file: 'x', error: { code: 'oops', message: 'm' } })).toThrow();
  });
});

describe('CSV export', () => {
  it('quotes fields and neutralises formulas', () => {
    const csv = resultsToCsv([ok, { file: '=HYPERLINK("x")', error: { code: 'no-video-track', message: 'No video.' } }]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/^file,label,confidence,p_animation/);
    expect(lines[1]).toMatch(/^"clip,""1"".mp4",gaming,0.9000,0.0500,0.9000/);
    expect(lines[2]).toMatch(/^"'=HYPERLINK\(""x""\)"/);
    expect(lines[2]).toContain('no-video-track,No video.');
  });
});
