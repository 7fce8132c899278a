/**
 * Peak memory of a process tree, sampled from /proc: the sum of PSS (proportional set size, so
 * pages shared between Chromium's processes are counted once) and of RSS over every descendant of
 * a root PID, optionally only those running a given executable.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (not root itself). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** PSS and RSS of one process in KiB (0 if it is gone). */
function footprint(pid: number): { pss: number; rss: number } {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { pss: kb('Pss'), rss: kb('Rss') };
  } catch {
    return { pss: 0, rss: 0 };
  }
}

export interface MemoryPeak {
  /** Peak of the summed PSS, MiB. */
  peakPssMiB: number;
  /** Peak of the summed RSS, MiB (over-counts shared pages; for comparison with tools that report RSS). */
  peakRssMiB: number;
  processes: number;
  samples: number;
}

/** Samples a process tree every `intervalMs` until `stop()`. */
export class MemorySampler {
  private peakPss = 0;
  private peakRss = 0;
  private maxProcs = 0;
  private samples = 0;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly root: () => number[],
    private readonly exeFilter?: (exe: string) => boolean,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const pids = this.root().flatMap((r) => [r, ...descendants(r)]);
    let pss = 0;
    let rss = 0;
    let n = 0;
    for (const pid of pids) {
      if (this.exeFilter && !this.exeFilter(exeOf(pid))) continue;
      const f = footprint(pid);
      if (f.rss === 0) continue;
      pss += f.pss;
      rss += f.rss;
      n++;
    }
    this.peakPss = Math.max(this.peakPss, pss);
    this.peakRss = Math.max(this.peakRss, rss);
    this.maxProcs = Math.max(this.maxProcs, n);
    this.samples++;
  }

  stop(): MemoryPeak {
    clearInterval(this.timer);
    this.sample();
    return { peakPssMiB: this.peakPss / 1024, peakRssMiB: this.peakRss / 1024, processes: this.maxProcs, samples: this.samples };
  }
}
