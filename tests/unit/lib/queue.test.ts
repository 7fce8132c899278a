import { describe, expect, it } from 'vitest';
import { SequentialQueue, type Job, type WorkContext } from '../../../src/lib/queue';

/** A job whose completion the test controls, resolving early (as the real classifier does) on abort. */
function controllable() {
  const started: string[] = [];
  const finish = new Map<string, (v: string) => void>();
  const work = (input: string, ctx: WorkContext<number>) =>
    new Promise<string>((resolve) => {
      started.push(input);
      ctx.onProgress(0.5);
      finish.set(input, (v) => resolve(v));
      ctx.signal.addEventListener('abort', () => resolve(`${input}:aborted`));
    });
  return { started, finish, work };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('SequentialQueue', () => {
  it('runs jobs one after another, in order', async () => {
    const { started, finish, work } = controllable();
    const q = new SequentialQueue(work);
    const jobs = q.add(['a', 'b', 'c']);
    await tick();
    expect(started).toEqual(['a']);
    expect(jobs.map((j) => j.state)).toEqual(['running', 'queued', 'queued']);
    finish.get('a')!('A');
    await tick();
    await tick();
    expect(started).toEqual(['a', 'b']);
    finish.get('b')!('B');
    await tick();
    await tick();
    finish.get('c')!('C');
    await q.idle();
    expect(jobs.map((j) => [j.state, j.output])).toEqual([
      ['done', 'A'],
      ['done', 'B'],
      ['done', 'C'],
    ]);
    expect(q.pending).toBe(0);
  });

  it('cancels a queued job without running it, and a running one through its signal', async () => {
    const { started, finish, work } = controllable();
    const q = new SequentialQueue(work);
    const [a, b, c] = q.add(['a', 'b', 'c']);
    await tick();
    q.cancel(b!.id);
    expect(b!.state).toBe('cancelled');
    q.cancel(a!.id);
    await tick();
    await tick();
    expect(a!.state).toBe('cancelled');
    expect(started).toEqual(['a', 'c']);
    finish.get('c')!('C');
    await q.idle();
    expect(c!.state).toBe('done');
  });

  it('cancelAll stops the running job and every queued one', async () => {
    const { started, work } = controllable();
    const q = new SequentialQueue(work);
    const jobs = q.add(['a', 'b', 'c']);
    await tick();
    q.cancelAll();
    await q.idle();
    expect(jobs.map((j) => j.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(started).toEqual(['a']);
  });

  it('a running job that ignores its signal is still settled as cancelled at once, and the next starts', async () => {
    const started: string[] = [];
    const q = new SequentialQueue<string, number, string>(
      (input) =>
        new Promise((resolve) => {
          started.push(input);
          if (input === 'stubborn') setTimeout(() => resolve('late'), 10_000).unref?.();
          else resolve(input);
        }),
    );
    const [a, b] = q.add(['stubborn', 'next']);
    await tick();
    q.cancel(a!.id);
    await q.idle();
    expect(a!.state).toBe('cancelled');
    expect(a!.output).toBeUndefined();
    expect(b!.state).toBe('done');
    expect(started).toEqual(['stubborn', 'next']);
  });

  it('a job that throws fails alone; the queue carries on', async () => {
    const q = new SequentialQueue<string, number, string>(async (input) => {
      if (input === 'bad') throw new Error('boom');
      return input.toUpperCase();
    });
    const jobs = q.add(['ok', 'bad', 'fine']);
    await q.idle();
    expect(jobs.map((j) => j.state)).toEqual(['done', 'failed', 'done']);
    expect((jobs[1]!.error as Error).message).toBe('boom');
    expect(jobs[2]!.output).toBe('FINE');
  });

  it('reports progress and state changes, and restarts when files arrive after it went idle', async () => {
    const events: [number, string, number | undefined][] = [];
    const q = new SequentialQueue<string, number, string>(
      async (input, ctx) => {
        ctx.onProgress(0.25);
        ctx.onProgress(1);
        return input;
      },
      (job: Readonly<Job<string, number, string>>) => events.push([job.id, job.state, job.progress]),
    );
    q.add(['a']);
    await q.idle();
    q.add(['b']);
    await q.idle();
    expect(events).toEqual([
      [1, 'queued', undefined],
      [1, 'running', undefined],
      [1, 'running', 0.25],
      [1, 'running', 1],
      [1, 'done', 1],
      [2, 'queued', undefined],
      [2, 'running', undefined],
      [2, 'running', 0.25],
      [2, 'running', 1],
      [2, 'done', 1],
    ]);
  });

  it('clearSettled forgets finished jobs but keeps pending ones', async () => {
    const { finish, work } = controllable();
    const q = new SequentialQueue(work);
    q.add(['a', 'b']);
    await tick();
    finish.get('a')!('A');
    await tick();
    q.clearSettled();
    expect(q.pending).toBe(1);
    q.cancelAll();
    await q.idle();
  });

  it('retry queues a failed or cancelled job again, behind the waiting ones, with its old outcome forgotten', async () => {
    let failOnce = true;
    const started: string[] = [];
    const q = new SequentialQueue<string, number, string>(async (input, ctx) => {
      started.push(input);
      ctx.onProgress(0.5);
      if (input === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('timeout');
      }
      return input.toUpperCase();
    });
    const [flaky, ok] = q.add(['flaky', 'ok']);
    await q.idle();
    expect([flaky!.state, ok!.state]).toEqual(['failed', 'done']);
    // Settled jobs only: a finished job can be run again, an unknown id cannot.
    expect(q.retry(flaky!.id)).toBe(true);
    // The idle runner starts it at once.
    expect(flaky!.state).toBe('running');
    expect(flaky!.error).toBeUndefined();
    expect(q.retry(12345)).toBe(false);
    await q.idle();
    expect(flaky!.state).toBe('done');
    expect(flaky!.output).toBe('FLAKY');
    expect(started).toEqual(['flaky', 'ok', 'flaky']);
  });

  it('retry leaves queued and running jobs alone, and a retried job waits behind those already queued', async () => {
    const { started, finish, work } = controllable();
    const q = new SequentialQueue(work);
    const [a, b, c] = q.add(['a', 'b', 'c']);
    await tick();
    expect(q.retry(a!.id)).toBe(false); // running
    expect(q.retry(c!.id)).toBe(false); // queued
    q.cancel(b!.id);
    expect(q.retry(b!.id)).toBe(true);
    expect(b!.state).toBe('queued');
    finish.get('a')!('A');
    await tick();
    await tick();
    expect(started).toEqual(['a', 'c']);
    finish.get('c')!('C');
    await tick();
    await tick();
    expect(started).toEqual(['a', 'c', 'b']);
    finish.get('b')!('B');
    await q.idle();
    expect([a!.output, b!.output, c!.output]).toEqual(['A', 'B', 'C']);
  });
});
