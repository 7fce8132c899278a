/** A progress bar with ETA on stderr (only when stderr is a terminal), and Ctrl-C as a clean stop. */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, extra?: string): void;
  stop(): void;
}

/**
 * A bar labelled `what` ("extract", "classify"). Silent when `enabled` is false (a command's
 * --no-progress) or stderr is not a TTY (CI logs, pipes).
 */
export function progressBar(what: string, enabled = true): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${what} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted} | {extra}`,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, extra = '') {
      if (!started) {
        bar.start(total, done, { extra });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { extra });
      }
    },
    stop: () => started && bar.stop(),
  };
}

/**
 * An AbortSignal fired by the first Ctrl-C (work in flight is stopped, nothing half-written is
 * committed); a second Ctrl-C exits at once. `dispose` removes the handler.
 */
export function interruptSignal(onFirst?: () => void): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const handler = () => {
    if (ctl.signal.aborted) process.exit(130);
    onFirst?.();
    ctl.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
