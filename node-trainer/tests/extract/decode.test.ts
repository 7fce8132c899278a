/** Native ffmpeg decoding: probing, both strategies against ffmpeg's own frame-by-frame decode, error codes. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePlan } from '../../../src/core/sampling.ts';
import { chooseStrategy, decodeFrames } from '../../src/decode/frames.ts';
import { outputSize, probeVideo } from '../../src/decode/probe.ts';
import { decodePlans } from '../../src/decode/sampled-frames.ts';

let dir = '';
const ff = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const md5 = (b: Uint8Array | Uint8ClampedArray) => createHash('md5').update(b).digest('hex');

/** ffmpeg's own decode of every frame: md5 of each RGBA frame, in order. */
function referenceFrameHashes(file: string): string[] {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-pix_fmt', 'rgba', '-f', 'framemd5', '-'], {
    maxBuffer: 1 << 26,
  }).toString();
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',')[5]!.trim());
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidkind-decode-'));
  const src = 'testsrc2=size=160x120:rate=25:duration=3';
  ff('-f', 'lavfi', '-i', src, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', join(dir, 'clip.mp4'));
  ff(
    '-f',
    'lavfi',
    '-i',
    src,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '10',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'mpegts',
    join(dir, 'clip.ts'),
  );
  ff('-i', join(dir, 'clip.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', join(dir, 'rotated.mp4'));
  ff(
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=2560x1440:rate=5:duration=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    join(dir, 'big.mp4'),
  );
  ff('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', join(dir, 'audio.m4a'));
  // 2 s of video, 3 s of audio: Matroska states only the file's duration (as scripts/make-fixtures.sh's video-shorter-than-audio.mkv).
  ff(
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=10:duration=2',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=330:duration=3',
    ...['-c:v', 'mpeg4', '-c:a', 'mp2'],
    join(dir, 'short-video.mkv'),
  );
  writeFileSync(join(dir, 'text.mp4'), 'This is not a video.\n'.repeat(40));
  writeFileSync(join(dir, 'empty.mp4'), '');
  const full = execFileSync('cat', [join(dir, 'clip.mp4')]);
  // moov at the end (no faststart): half a file has no index.
  writeFileSync(join(dir, 'truncated.mp4'), full.subarray(0, full.length >> 1));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probeVideo', () => {
  it('reads duration, constant frame rate, frame count and rotation', async () => {
    const info = await probeVideo(join(dir, 'clip.mp4'));
    expect(info).toMatchObject({
      codec: 'h264',
      codedWidth: 160,
      codedHeight: 120,
      rotation: 0,
      durationS: 3,
      frameRate: 25,
      frameCount: 75,
    });
    const rot = await probeVideo(join(dir, 'rotated.mp4'));
    expect(rot.rotation % 180).toBe(90);
    expect(outputSize(rot)).toEqual({ width: 120, height: 160 });
    expect(outputSize(await probeVideo(join(dir, 'big.mp4')))).toEqual({ width: 1280, height: 720 });
  });

  it.each([
    ['audio.m4a', 'no-video-track'],
    ['text.mp4', 'unsupported-container'],
    ['empty.mp4', 'corrupt-file'],
    ['truncated.mp4', 'corrupt-file'],
    ['missing.mp4', 'file-unreadable'],
  ])('maps %s to %s', async (name, code) => {
    await expect(probeVideo(join(dir, name))).rejects.toMatchObject({ code });
  });
});

describe('decodeFrames', () => {
  it.each([
    ['clip.mp4', 'pass'],
    ['clip.ts', 'pass'],
    ['clip.mp4', 'seek'],
    ['clip.ts', 'seek'],
  ] as const)('returns exactly the frames at the planned times (%s, %s)', async (name, strategy) => {
    const file = join(dir, name);
    const info = await probeVideo(file);
    // Frames near the end too: a seek past the last keyframe must step back.
    const plan = samplePlan(info.durationS, { frames: 6, frameRate: info.frameRate, frameCount: info.frameCount });
    const times = [...plan.unique, 2.96];
    const frames = await decodeFrames(file, info, times, { strategy });
    const ref = referenceFrameHashes(file);
    // With a constant rate, sample t is frame round(t * fps) of ffmpeg's sequential decode.
    expect(frames.map((f) => ref.indexOf(md5(f.data)))).toEqual(times.map((t) => Math.round(t * 25)));
  });

  it.each(['pass', 'seek'] as const)(
    'samples past the last frame of a video that ends before its file get the frame before (%s), as the browser does',
    async (strategy) => {
      const file = join(dir, 'short-video.mkv');
      const info = await probeVideo(file);
      expect(info.durationS).toBeGreaterThan(2.9);
      const times = [0.5, 1.5, 2.2, 2.6];
      const frames = await decodeFrames(file, info, times, { strategy });
      const ref = referenceFrameHashes(file);
      expect(ref).toHaveLength(20);
      expect(frames.map((f) => ref.indexOf(md5(f.data)))).toEqual([5, 15, 15, 15]);
    },
  );

  it('applies rotation and the 1280 cap; shared timestamps of several plans decode once', async () => {
    const rot = join(dir, 'rotated.mp4');
    const info = await probeVideo(rot);
    const plans = [samplePlan(info.durationS, { frames: 4 }), samplePlan(info.durationS, { frames: 4, shift: 0.25 })];
    const [p0, p1] = await decodePlans(rot, info, plans);
    expect(p0!.length).toBe(4);
    expect(p1!.length).toBe(4);
    expect(p0![0]).toMatchObject({ width: 120, height: 160 });
    expect(p0![0]!.data.length).toBe(120 * 160 * 4);
    const big = join(dir, 'big.mp4');
    const [frames] = await decodePlans(big, await probeVideo(big), [samplePlan(1, { frames: 2, frameRate: 5, frameCount: 5 })]);
    expect(frames![0]).toMatchObject({ width: 1280, height: 720 });
  });

  it('uses one pass for short clips and seeks in long videos', () => {
    const short = { codec: 'h264', codedWidth: 1, codedHeight: 1, rotation: 0, durationS: 10, startS: 0, frameRate: 25, frameCount: 250 };
    expect(chooseStrategy(short, 32)).toBe('pass');
    expect(chooseStrategy({ ...short, durationS: 3600, frameCount: 90000 }, 32)).toBe('seek');
  });

  it('fails with timeout when the time limit is too short, and cancelled on abort', async () => {
    const file = join(dir, 'clip.mp4');
    const info = await probeVideo(file);
    await expect(decodeFrames(file, info, [0, 1, 2], { strategy: 'seek', timeoutMs: 1 })).rejects.toMatchObject({ code: 'timeout' });
    const ctl = new AbortController();
    const p = decodeFrames(file, info, [0, 1, 2], { strategy: 'seek', signal: ctl.signal });
    ctl.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
});
