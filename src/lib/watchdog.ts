/**
 * Per-stage time limits for the workers: a stall watchdog fires when a worker call has shown no
 * progress for a while, so a decoder stuck on a hostile file or a worker that never answers ends
 * with a `timeout` error for that file instead of hanging the queue. The limit counts time without
 * progress, not total time: a 2-hour film on a slow machine goes on as long as frames keep coming.
 * (Hand-written: no maintained library does "restartable, pausable countdown" smaller than this.)
 */
import { z } from 'zod';

export interface StageLimits {
  /** Decode: longest time without a frame or progress report from the decode worker. */
  decodeStallMs: number;
  /** Inference: longest time for one unit of a worker call (a backbone frame x view, a head run, a model load). */
  inferStallMs: number;
}

/**
 * Generous on purpose: one ffmpeg.wasm seek into a long 4K HEVC GOP, or one frame of a large
 * backbone on a CPU-emulated WebGPU adapter, takes tens of seconds; a hang takes forever.
 */
export const DEFAULT_STAGE_LIMITS: StageLimits = { decodeStallMs: 120_000, inferStallMs: 120_000 };

/** localStorage key of an override (diagnostics and the watchdog e2e test set short limits here). */
export const STAGE_LIMITS_KEY = 'vidkind.stageLimits';

const LimitMs = z.number().int().min(100).max(3_600_000);
const StoredLimits = z.object({ decodeStallMs: LimitMs.optional(), inferStallMs: LimitMs.optional() });

/** The limits in force: the defaults, overridden by a valid stored value (storage is untrusted). */
export function stageLimits(storage?: Pick<Storage, 'getItem'>): StageLimits {
  try {
    // Read in here: where the user blocks site data, Chromium throws on merely reading `localStorage`.
    const raw = (storage ?? globalThis.localStorage)?.getItem(STAGE_LIMITS_KEY);
    if (raw) {
      const parsed = StoredLimits.safeParse(JSON.parse(raw));
      if (parsed.success) return { ...DEFAULT_STAGE_LIMITS, ...parsed.data };
    }
  } catch {
    // Disabled storage or junk in it: the defaults hold.
  }
  return { ...DEFAULT_STAGE_LIMITS };
}

export interface Watchdog {
  /** Progress was seen: the countdown starts again from the full limit. */
  progress(): void;
  /** Stops counting while the time is spent outside the watched worker (e.g. in our frame callback); nests. */
  pause(): void;
  /** Ends one pause; when none is left, the countdown restarts from the full limit. */
  resume(): void;
  /** Stops the watchdog for good (the call settled). */
  stop(): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Starts a countdown of `limitMs`; `onStall` runs once if it reaches zero while not paused. */
export function startWatchdog(limitMs: number, onStall: () => void, timers: Timers = realTimers): Watchdog {
  let timer: unknown;
  let paused = 0;
  let stopped = false;
  const arm = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    if (stopped || paused > 0) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      if (stopped || paused > 0) return;
      stopped = true;
      onStall();
    }, limitMs);
  };
  arm();
  return {
    progress: arm,
    pause() {
      paused++;
      arm();
    },
    resume() {
      paused = Math.max(0, paused - 1);
      arm();
    },
    stop() {
      stopped = true;
      arm();
    },
  };
}

/** "2 min", "45 s", "0.5 s": a limit as people read it, for error messages. */
export function formatLimit(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Number((ms / 1000).toFixed(1))} s`;
}
