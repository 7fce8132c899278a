/**
 * The >2 GiB test files (scripts/make-big-file.ts) are real, valid MP4s: Debian's native ffprobe reads
 * them, their media data lies beyond 2^31 (and 2^32) bytes, and native ffmpeg decodes exactly the
 * frames and timestamps of the small clip they were made from, while they take almost no disk.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_FILES, layoutBigMp4, makeBigFiles } from '../../../scripts/make-big-file';

const GiB = 2 ** 30;
let dir = '';
let files: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vidkind-big-test-'));
  files = makeBigFiles(dir, { keepSources: true });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sourceOf = (name: string) => path.join(dir, `source-${name}`);

function ffprobe(file: string, args: string[]): string {
  return execFileSync('nice', ['-n', '10', 'ffprobe', '-v', 'error', ...args, file], { encoding: 'utf8' });
}

/** Native ffmpeg's per-frame hashes with their timestamps (the `#` header lines name the time base). */
function frameHashes(file: string): string[] {
  const out = execFileSync('nice', ['-n', '10', 'ffmpeg', '-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim() && (!l.startsWith('#') || l.startsWith('#tb')));
}

/** `length` bytes of a file from `position` (without reading the rest of it). */
function readAt(file: string, position: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

describe.each(BIG_FILES.map((r) => [r.name, r] as const))('%s', (name, recipe) => {
  it('is larger than 2 GiB on paper and takes almost no disk (sparse)', () => {
    const st = statSync(files[name]!);
    expect(st.size).toBeGreaterThan(recipe.mdatAt);
    expect(st.size).toBeGreaterThan(2 * GiB);
    expect(st.blocks * 512, 'bytes on disk').toBeLessThan(2 * 2 ** 20);
  });

  it('ffprobe reads it as the 4 s 320x240 clip it was made from', () => {
    const probe = JSON.parse(ffprobe(files[name]!, ['-print_format', 'json', '-show_format', '-show_streams'])) as {
      format: { size: string; duration: string; format_name: string };
      streams: { codec_type: string; codec_name: string; width: number; height: number; nb_frames: string }[];
    };
    expect(Number(probe.format.size)).toBe(statSync(files[name]!).size);
    expect(Number(probe.format.duration)).toBeCloseTo(4, 2);
    expect(probe.format.format_name).toContain('mp4');
    expect(probe.streams).toHaveLength(1);
    expect(probe.streams[0]).toMatchObject({
      codec_type: 'video',
      codec_name: name.includes('hevc') ? 'hevc' : 'h264',
      width: 320,
      height: 240,
      nb_frames: '100',
    });
  });

  it('has every video packet beyond the padding (past 2^31; past 2^32 for the co64 file)', () => {
    const positions = ffprobe(files[name]!, ['-select_streams', 'v:0', '-show_entries', 'packet=pos', '-of', 'csv=p=0'])
      .trim()
      .split('\n')
      .map(Number);
    expect(positions).toHaveLength(100);
    expect(Math.min(...positions)).toBeGreaterThan(recipe.mdatAt);
    expect(Math.min(...positions)).toBeGreaterThan(2 ** 31);
    if (recipe.mdatAt > 2 ** 32) expect(Math.min(...positions)).toBeGreaterThan(2 ** 32);
  });

  it('stores its chunk offsets as stco below 2^32 and as co64 above', () => {
    const size = statSync(files[name]!).size;
    // The moov box is at the end of big-h264.mp4 and at the start of big-hevc.mp4 (faststart).
    const moovRegion = Buffer.concat([readAt(files[name]!, 0, 64 * 1024), readAt(files[name]!, size - 64 * 1024, 64 * 1024)]);
    const wide = recipe.mdatAt > 2 ** 32;
    expect(moovRegion.includes('co64'), 'co64 box').toBe(wide);
    expect(moovRegion.includes('stco'), 'stco box').toBe(!wide);
  });

  it('native ffmpeg decodes the same 100 frames at the same timestamps as the small source clip', () => {
    const big = frameHashes(files[name]!);
    const small = frameHashes(sourceOf(name));
    expect(big[0]).toBe('#tb 0: 1/25');
    const frames = big.slice(1).map((l) => l.split(',').map((c) => c.trim()));
    expect(frames).toHaveLength(100);
    // framemd5 columns: stream, dts, pts, duration, size, hash. One frame per 1/25 s, in order.
    expect(frames.map((f) => Number(f[2]))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(big).toEqual(small);
  });
});

describe('layoutBigMp4', () => {
  it('refuses a media offset that leaves no room for the padding box', () => {
    const source = readFileSync(sourceOf('big-h264.mp4'));
    expect(() => layoutBigMp4(source, 40)).toThrow(/no room/);
  });

  it('refuses bytes that are not a sequence of MP4 boxes', () => {
    expect(() => layoutBigMp4(new TextEncoder().encode('This is a plain text file, not a video.'), 3 * GiB)).toThrow(/MP4 box/);
  });
});
