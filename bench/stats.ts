/** Summary statistics and child-process helpers shared by the bench's modules. */
import { spawn } from 'node:child_process';
import { MemorySampler, type MemoryPeak } from './memory.ts';

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

export function stats(values: number[]): Stats | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)!, n: s.length, values: v.map(round3) };
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Wall times in ms of `runs` calls of `run`, after `warmup` untimed calls. */
export async function timeRuns(run: () => Promise<unknown>, warmup: number, runs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times;
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** JSON objects parsed from stdout lines that are JSON. */
  lines: Record<string, unknown>[];
  wallMs: number;
  memory: MemoryPeak;
}

/** Runs a command, sampling its process tree's memory; never rejects (a failure is in `code`/`stderr`). */
export function runChild(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const sampler = new MemorySampler(() => (child.pid ? [child.pid] : []));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    const done = (code: number | null) => {
      if (timer) clearTimeout(timer);
      const memory = sampler.stop();
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      resolve({ code, stdout, stderr, lines, wallMs: performance.now() - t0, memory });
    };
    child.on('error', (e) => {
      stderr += String(e);
      done(-1);
    });
    child.on('close', done);
  });
}

/** The last lines of a child's stderr, for a "not measured" reason. */
export function tail(s: string, n = 3): string {
  return s.trim().split('\n').slice(-n).join(' | ').slice(0, 400);
}
