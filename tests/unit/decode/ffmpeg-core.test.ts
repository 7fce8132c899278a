/**
 * How the ffmpeg.wasm path manages its core and its runs (workers/decode/ffmpeg.ts): a fresh core
 * every 8 files, a command that traps (the core's "memory access out of bounds") run once more on a
 * fresh core with the file put on it again, and which runs seek. @ffmpeg/ffmpeg is replaced by a
 * fake: its ffprobe describes a video from a table, its exec plays a constant-rate stream with a key
 * frame every second through the run's seek and `select` (as ffmpeg: the first frame at or after
 * each threshold), and its commands trap when told to. The code under test is the real one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  /** The video every probe describes: 1280x720 at 10 fps (frames at k / 10 s), `durationS` long. */
  const stream = { durationS: 2, fps: 10 };
  class FakeCore {
    readonly id: number;
    readonly files = new Map<string, number>();
    readonly execs: string[][] = [];
    private scratch = new Uint8Array(0);
    terminated = false;
    commands = 0;
    private log: ((e: { message: string }) => void) | null = null;
    constructor() {
      this.id = fake.cores.length;
      fake.cores.push(this);
    }
    on(_event: 'log', cb: (e: { message: string }) => void) {
      this.log = cb;
    }
    async load() {
      return true;
    }
    terminate() {
      this.terminated = true;
    }
    async createDir() {}
    async deleteDir() {}
    async writeFile(path: string, data: Uint8Array) {
      this.files.set(path, data.byteLength);
    }
    async deleteFile(path: string) {
      this.files.delete(path);
    }
    async readFile() {
      return this.scratch.slice();
    }
    async exec(args: string[]) {
      if (this.terminated) throw new Error('called FFmpeg.terminate()');
      this.commands++;
      this.execs.push(args);
      const at = (flag: string) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : null);
      const seek = at('-ss') ?? 0;
      const limit = at('-frames:v') ?? Infinity;
      const vf = args[args.indexOf('-vf') + 1]!;
      const thresholds = [...vf.matchAll(/gte\(t,(-?[0-9.]+)\)/g)].map((m) => Number(m[1]));
      const [w, h] = /scale=(\d+):(\d+)/.exec(vf)!.slice(1).map(Number) as [number, number];
      const count = Math.round(stream.durationS * stream.fps);
      // -noaccurate_seek: decoding starts at the key frame (one a second) at or before the seek.
      let prev = NaN;
      const kept: number[] = [];
      for (let k = Math.floor(seek) * stream.fps; k < count && kept.length < limit; k++) {
        const t = k / stream.fps;
        if (Number.isNaN(prev)) this.log?.({ message: `[Parsed_showinfo_0 @ 0x1] showinfo@first n:0 pts:${k} pts_time:${t}` });
        if (thresholds.some((a) => t >= a && !(prev >= a))) kept.push(t);
        prev = t;
      }
      for (const t of kept) this.log?.({ message: `[Parsed_showinfo_3 @ 0x2] showinfo@out n:0 pts:0 pts_time:${t}` });
      // Each kept frame's bytes all hold its frame number, to tell frames apart.
      this.scratch = new Uint8Array(Math.max(this.scratch.length, kept.length * w * h * 4));
      kept.forEach((t, i) => this.scratch.fill(Math.round(t * stream.fps) % 256, i * w * h * 4, (i + 1) * w * h * 4));
      return 0;
    }
    async ffprobe(args: string[]) {
      if (this.terminated) throw new Error('called FFmpeg.terminate()');
      this.commands++;
      if (fake.trapNext > 0) {
        fake.trapNext--;
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      }
      const path = args.at(-1)!;
      if (!this.files.has(path)) throw new Error(`${path}: no such file on core ${this.id}`);
      const json = {
        streams: [
          {
            codec_type: 'video',
            codec_name: 'mpeg4',
            width: 1280,
            height: 720,
            r_frame_rate: '10/1',
            avg_frame_rate: '10/1',
            duration: String(stream.durationS),
            nb_frames: String(Math.round(stream.durationS * stream.fps)),
          },
        ],
        format: { format_name: 'avi', duration: String(stream.durationS), start_time: '0.000000' },
      };
      for (const line of JSON.stringify(json, null, 2).split('\n')) this.log?.({ message: line });
      return 0;
    }
  }
  return { cores: [] as FakeCore[], trapNext: 0, FakeCore, stream };
});

vi.mock('@ffmpeg/ffmpeg', () => ({ FFmpeg: fake.FakeCore, FFFSType: { WORKERFS: 'WORKERFS' } }));
vi.mock('@ffmpeg/core?url', () => ({ default: '/assets/ffmpeg-core.js' }));
vi.mock('@ffmpeg/core/wasm?url', () => ({ default: '/assets/ffmpeg-core.wasm' }));

type FfmpegModule = typeof import('../../../workers/decode/ffmpeg');
let ffmpeg: FfmpegModule;
const signal = new AbortController().signal;
const video = (i: number) => new File([new Uint8Array(1000 + i)], `clip${i}.avi`);

beforeEach(async () => {
  vi.stubGlobal('self', { location: { href: 'http://localhost/' } });
  vi.resetModules();
  fake.cores.length = 0;
  fake.trapNext = 0;
  fake.stream.durationS = 2;
  ffmpeg = await import('../../../workers/decode/ffmpeg');
});
afterEach(() => vi.unstubAllGlobals());

describe('ffmpeg.wasm core', () => {
  it('is loaded afresh for every 8 files; a closed file leaves its core', async () => {
    const cores: number[] = [];
    for (let i = 0; i < 17; i++) {
      const v = await ffmpeg.openWithFfmpeg(video(i), signal, true);
      expect(v.info).toMatchObject({ width: 1280, height: 720, codec: 'mpeg4', decoder: 'ffmpeg' });
      cores.push(fake.cores.length - 1);
      v.close();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(cores).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
    expect(fake.cores.map((c) => c.terminated)).toEqual([true, true, false]);
    expect(fake.cores.map((c) => c.files.size)).toEqual([0, 0, 0]);
  });

  it('a command that traps runs again on a fresh core, with the file put on it again', async () => {
    await ffmpeg.openWithFfmpeg(video(0), signal, true);
    fake.trapNext = 1;
    const v = await ffmpeg.openWithFfmpeg(video(1), signal, true);
    expect(v.info).toMatchObject({ width: 1280, height: 720 });
    expect(fake.cores).toHaveLength(2);
    expect(fake.cores[0]!.terminated).toBe(true);
    expect(fake.cores[1]!.commands).toBe(1);
    expect([...fake.cores[1]!.files.keys()]).toEqual([expect.stringMatching(/\/video\.avi$/)]);
    // The next file goes on the fresh core.
    await ffmpeg.openWithFfmpeg(video(2), signal, true);
    expect(fake.cores).toHaveLength(2);
  });

  it('a file whose command traps on two cores fails with a clear internal error, and the next file decodes', async () => {
    fake.trapNext = 2;
    const error = await ffmpeg.openWithFfmpeg(video(0), signal, true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'internal', message: expect.stringMatching(/broke down twice.*out of bounds/) });
    const v = await ffmpeg.openWithFfmpeg(video(1), signal, true);
    expect(v.info.width).toBe(1280);
    expect(fake.cores).toHaveLength(3);
  });
});

describe('ffmpeg.wasm runs', () => {
  /** Decodes `times` and returns each frame's actual time and the frame number its bytes hold. */
  async function frames(times: number[]) {
    const v = await ffmpeg.openWithFfmpeg(video(0), signal, true);
    const got: Array<[number, number]> = [];
    await v.frames(times, 1280, signal, async (i, f) => void (got[i] = [f.actualTimestamp, f.data[0]!]));
    v.close();
    return { got, execs: fake.cores.at(-1)!.execs };
  }

  it('a short video read in several runs (more frames than one run holds): no run seeks, every frame exact', async () => {
    fake.stream.durationS = 6;
    // 40 samples of 1280x720: 17 to a run. After a seek ffmpeg can stamp frames a few frames off
    // (python3-imageio's cockatoo.mp4), which a run from the start never does.
    const times = Array.from({ length: 40 }, (_, i) => Math.round(i * 1.5) / 10);
    const { got, execs } = await frames(times);
    expect(execs.length).toBeGreaterThanOrEqual(3);
    expect(execs.filter((a) => a.includes('-ss'))).toEqual([]);
    expect(got).toEqual(times.map((t) => [t, Math.round(t * 10)]));
  });

  it('a long video: one run per sample, each seeking to the key frame before it', async () => {
    fake.stream.durationS = 600;
    const times = [30, 90.5, 300, 512.3];
    const { got, execs } = await frames(times);
    expect(execs.map((a) => a[a.indexOf('-ss') + 1])).toEqual(['30.000000', '90.500000', '300.000000', '512.300000']);
    expect(got).toEqual(times.map((t) => [t, Math.round(t * 10) % 256]));
  });

  it('samples past the last frame get the frame before (the container runs on past the video)', async () => {
    fake.stream.durationS = 2;
    const { got } = await frames([0.5, 1.5, 2.5, 3]);
    expect(got).toEqual([
      [0.5, 5],
      [1.5, 15],
      [1.5, 15],
      [1.5, 15],
    ]);
  });
});
