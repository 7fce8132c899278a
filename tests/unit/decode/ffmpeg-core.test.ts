/**
 * How the ffmpeg.wasm path manages its core (workers/decode/ffmpeg.ts): a fresh core every 8 files,
 * and a command that traps (the core's "memory access out of bounds") run once more on a fresh core
 * with the file put on it again. @ffmpeg/ffmpeg is replaced by a fake whose ffprobe answers from a
 * table and whose commands trap when told to: the code under test is the real one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  class FakeCore {
    readonly id: number;
    readonly files = new Map<string, number>();
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
            width: 64,
            height: 48,
            r_frame_rate: '10/1',
            avg_frame_rate: '10/1',
            duration: '2.0',
            nb_frames: '20',
          },
        ],
        format: { format_name: 'avi', duration: '2.0', start_time: '0.000000' },
      };
      for (const line of JSON.stringify(json, null, 2).split('\n')) this.log?.({ message: line });
      return 0;
    }
  }
  return { cores: [] as FakeCore[], trapNext: 0, FakeCore };
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
  ffmpeg = await import('../../../workers/decode/ffmpeg');
});
afterEach(() => vi.unstubAllGlobals());

describe('ffmpeg.wasm core', () => {
  it('is loaded afresh for every 8 files; a closed file leaves its core', async () => {
    const cores: number[] = [];
    for (let i = 0; i < 17; i++) {
      const v = await ffmpeg.openWithFfmpeg(video(i), signal, true);
      expect(v.info).toMatchObject({ width: 64, height: 48, codec: 'mpeg4', decoder: 'ffmpeg' });
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
    expect(v.info).toMatchObject({ width: 64, height: 48 });
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
    expect(v.info.width).toBe(64);
    expect(fake.cores).toHaveLength(3);
  });
});
