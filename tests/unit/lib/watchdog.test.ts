import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_STAGE_LIMITS, formatLimit, stageLimits, STAGE_LIMITS_KEY, startWatchdog } from '../../../src/lib/watchdog';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('startWatchdog', () => {
  it('fires once when no progress is seen for the limit', () => {
    const stalled = vi.fn();
    startWatchdog(1000, stalled);
    vi.advanceTimersByTime(999);
    expect(stalled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(stalled).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('counts time without progress, not total time: steady progress never fires', () => {
    const stalled = vi.fn();
    const dog = startWatchdog(1000, stalled);
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(900);
      dog.progress();
    }
    expect(stalled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('does not count paused time (nested pauses), and restarts the full limit on resume', () => {
    const stalled = vi.fn();
    const dog = startWatchdog(1000, stalled);
    vi.advanceTimersByTime(800);
    dog.pause();
    dog.pause();
    vi.advanceTimersByTime(60_000);
    dog.resume();
    vi.advanceTimersByTime(5_000);
    expect(stalled).not.toHaveBeenCalled();
    dog.resume();
    vi.advanceTimersByTime(999);
    expect(stalled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('never fires after stop', () => {
    const stalled = vi.fn();
    const dog = startWatchdog(1000, stalled);
    vi.advanceTimersByTime(500);
    dog.stop();
    dog.progress();
    dog.resume();
    vi.advanceTimersByTime(10_000);
    expect(stalled).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('stageLimits', () => {
  const storage = (value: string | null) => ({ getItem: (k: string) => (k === STAGE_LIMITS_KEY ? value : null) });

  it('gives the defaults without an override, with junk, or with out-of-range values', () => {
    expect(stageLimits(undefined)).toEqual(DEFAULT_STAGE_LIMITS);
    expect(stageLimits(storage(null))).toEqual(DEFAULT_STAGE_LIMITS);
    expect(stageLimits(storage('{not json'))).toEqual(DEFAULT_STAGE_LIMITS);
    expect(stageLimits(storage('{"decodeStallMs": 5}'))).toEqual(DEFAULT_STAGE_LIMITS);
    expect(stageLimits(storage('{"decodeStallMs": "2000"}'))).toEqual(DEFAULT_STAGE_LIMITS);
    expect(
      stageLimits({
        getItem: () => {
          throw new Error('SecurityError');
        },
      }),
    ).toEqual(DEFAULT_STAGE_LIMITS);
  });

  it('applies a valid override field by field', () => {
    expect(stageLimits(storage('{"decodeStallMs": 2000}'))).toEqual({ ...DEFAULT_STAGE_LIMITS, decodeStallMs: 2000 });
    expect(stageLimits(storage('{"decodeStallMs": 2000, "inferStallMs": 3000}'))).toEqual({ decodeStallMs: 2000, inferStallMs: 3000 });
  });
});

describe('formatLimit', () => {
  it('reads as people say it', () => {
    expect(formatLimit(120_000)).toBe('2 min');
    expect(formatLimit(90_000)).toBe('90 s');
    expect(formatLimit(2_000)).toBe('2 s');
    expect(formatLimit(500)).toBe('0.5 s');
  });
});
