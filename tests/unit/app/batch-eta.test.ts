import { describe, expect, it } from 'vitest';
import { timeLeftMs, timeLeftText } from '../../../src/app/batch-eta';

describe('batch time left', () => {
  it('goes by the pace of the files done so far, once a whole file is done', () => {
    expect(timeLeftMs(0.6, 10, 5_000)).toBeNull();
    expect(timeLeftMs(2, 10, 4_000)).toBe(16_000);
    expect(timeLeftMs(2.5, 5, 5_000)).toBe(5_000);
    expect(timeLeftMs(5, 5, 5_000)).toBeNull();
    expect(timeLeftMs(2, 5, 0)).toBeNull();
  });

  it('says it in rounded words', () => {
    expect(timeLeftText(4_000)).toBe('a few seconds left');
    expect(timeLeftText(36_000)).toBe('about 40 s left');
    expect(timeLeftText(59_000)).toBe('about 60 s left');
    expect(timeLeftText(150_000)).toBe('about 3 min left');
    expect(timeLeftText(3_600_000)).toBe('about 1 h left');
    expect(timeLeftText(4_800_000)).toBe('about 1 h 20 min left');
  });
});
