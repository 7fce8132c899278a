import { describe, expect, it } from 'vitest';
import { ERROR_CODES, VidkindError, fromErrorInfo, isPassingError, throwIfCancelled, toErrorInfo } from '../../../src/core/errors';

describe('errors', () => {
  it('keeps codes across a boundary', () => {
    const info = toErrorInfo(new VidkindError('corrupt-file', 'The file is damaged.'));
    expect(info).toEqual({ code: 'corrupt-file', message: 'The file is damaged.' });
    expect(fromErrorInfo(info)).toBeInstanceOf(VidkindError);
    expect(toErrorInfo({ code: 'too-short', message: 'Short.' })).toEqual({ code: 'too-short', message: 'Short.' });
  });

  it('maps aborts and unknown errors', () => {
    expect(toErrorInfo(new DOMException('stop', 'AbortError')).code).toBe('cancelled');
    expect(toErrorInfo(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(toErrorInfo(42)).toEqual({ code: 'internal', message: '42' });
    expect(toErrorInfo({ code: 'not-a-code', message: 'x' }).code).toBe('internal');
    // The File API's errors for a picked file moved, deleted or changed since: said in plain words.
    for (const name of ['NotFoundError', 'NotReadableError']) {
      const info = toErrorInfo(new DOMException('A requested file or directory could not be found.', name));
      expect(info.code).toBe('file-unreadable');
      expect(info.message).toMatch(/moved, deleted or changed after it was picked/);
    }
  });

  it('throwIfCancelled throws only when aborted', () => {
    const c = new AbortController();
    expect(() => throwIfCancelled(c.signal)).not.toThrow();
    c.abort();
    expect(() => throwIfCancelled(c.signal)).toThrow(/Cancelled/);
  });

  it('only errors that are not about the file itself are worth another try', () => {
    const passing = ERROR_CODES.filter(isPassingError);
    expect(passing).toEqual(['timeout', 'model-integrity', 'model-load', 'invalid-manifest', 'inference-failed', 'internal']);
    for (const code of [
      'corrupt-file',
      'file-unreadable',
      'unsupported-codec',
      'no-video-track',
      'too-short',
      'file-too-large',
      'cancelled',
    ] as const)
      expect(isPassingError(code)).toBe(false);
  });
});
