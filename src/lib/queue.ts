/**
 * A sequential job queue: files run one after another, each with its own AbortController, so one
 * file can be cancelled (queued or running) without touching the others. Plain TypeScript; the
 * Svelte store in src/app/stores mirrors its events into reactive state.
 */

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job<I, P, O> {
  readonly id: number;
  readonly input: I;
  state: JobState;
  progress?: P;
  output?: O;
  /** Set when the work function threw (the queue carries on with the next job). */
  error?: unknown;
}

export interface WorkContext<P> {
  signal: AbortSignal;
  onProgress: (progress: P) => void;
}

export type Work<I, P, O> = (input: I, ctx: WorkContext<P>) => Promise<O>;

/** Runs `work` on each added input in order, one at a time. */
export class SequentialQueue<I, P, O> {
  private readonly jobs: Job<I, P, O>[] = [];
  private readonly controllers = new Map<number, AbortController>();
  private nextId = 1;
  private running: Promise<void> | null = null;

  constructor(
    private readonly work: Work<I, P, O>,
    /** Called after every change of a job (state, progress, output). */
    private readonly onChange: (job: Readonly<Job<I, P, O>>) => void = () => {},
  ) {}

  /** Appends inputs as queued jobs and starts the runner if it is idle. */
  add(inputs: Iterable<I>): Job<I, P, O>[] {
    const added: Job<I, P, O>[] = [];
    for (const input of inputs) {
      const job: Job<I, P, O> = { id: this.nextId++, input, state: 'queued' };
      this.jobs.push(job);
      added.push(job);
      this.onChange(job);
    }
    if (added.length > 0) this.start();
    return added;
  }

  /** Starts the runner if it is idle. */
  private start(): void {
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Cancels one job: a queued job never starts, a running one has its signal aborted. */
  cancel(id: number): void {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) return;
    if (job.state === 'queued') {
      job.state = 'cancelled';
      this.onChange(job);
    } else if (job.state === 'running') {
      this.controllers.get(id)?.abort();
    }
  }

  /**
   * Queues a settled job (done, failed or cancelled) again, behind the jobs already waiting: its
   * output, error and progress are forgotten. Returns false for a job that is queued, running or
   * unknown (cleared), which is left alone.
   */
  retry(id: number): boolean {
    const i = this.jobs.findIndex((j) => j.id === id);
    const job = this.jobs[i];
    if (!job || job.state === 'queued' || job.state === 'running') return false;
    this.jobs.splice(i, 1);
    this.jobs.push(job);
    job.state = 'queued';
    delete job.output;
    delete job.error;
    delete job.progress;
    this.onChange(job);
    this.start();
    return true;
  }

  /** Cancels every queued and running job. */
  cancelAll(): void {
    for (const job of this.jobs) if (job.state === 'queued' || job.state === 'running') this.cancel(job.id);
  }

  /** Resolves when no job is queued or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Jobs that are queued or running. */
  get pending(): number {
    return this.jobs.filter((j) => j.state === 'queued' || j.state === 'running').length;
  }

  /** Forgets settled jobs (done, failed, cancelled); queued and running ones stay. */
  clearSettled(): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const s = this.jobs[i]!.state;
      if (s !== 'queued' && s !== 'running') this.jobs.splice(i, 1);
    }
  }

  private async drain(): Promise<void> {
    for (let job = this.nextQueued(); job; job = this.nextQueued()) {
      const controller = new AbortController();
      this.controllers.set(job.id, controller);
      job.state = 'running';
      this.onChange(job);
      const current = job;
      // A cancelled job settles at once, even if the work takes a while to notice its signal:
      // the person sees it stop, and the next file starts.
      const abandoned = new Promise<undefined>((resolve) =>
        controller.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
      );
      try {
        const work = this.work(current.input, {
          signal: controller.signal,
          onProgress: (p) => {
            if (current.state !== 'running') return;
            current.progress = p;
            this.onChange(current);
          },
        });
        work.catch(() => {}); // a rejection after abandonment is not news
        current.output = await Promise.race([work, abandoned]);
        current.state = controller.signal.aborted ? 'cancelled' : 'done';
      } catch (error) {
        current.error = error;
        current.state = controller.signal.aborted ? 'cancelled' : 'failed';
      } finally {
        this.controllers.delete(current.id);
      }
      this.onChange(current);
      // Give the page a turn between files so rendering and input never wait on a long batch.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  private nextQueued(): Job<I, P, O> | undefined {
    return this.jobs.find((j) => j.state === 'queued');
  }
}
