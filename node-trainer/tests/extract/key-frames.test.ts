/** node-trainer's key-frame snapping on real files: ffprobe's key frames, and decodePlans taking them on long videos only. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyFrameTolerance } from '../../../src/core/decode-plan.ts';
import { samplePlan } from '../../../src/core/sampling.ts';
import { decodeFrames } from '../../src/decode/frames.ts';
import { keyFramesInWindows } from '../../src/decode/key-frames.ts';
import { probeVideo, type VideoInfo } from '../../src/decode/probe.ts';
import { decodePlans } from '../../src/decode/sampled-frames.ts';

const MEDIA = path.resolve('tests/fixtures/media');
// 600 s at 25 fps, key frames every 10 s (scripts/make-fixtures.sh).
const LONG = path.join(MEDIA, 'long-gop.mp4');
const SHORT = path.join(MEDIA, 'h264.mp4');

let long: VideoInfo;
beforeAll(async () => {
  if (!existsSync(LONG)) throw new Error(`${LONG} missing: run \`npm run fixtures\` first.`);
  long = await probeVideo(LONG);
});

describe('keyFramesInWindows', () => {
  it('finds the latest key frame in [t - tolerance, t], or none', async () => {
    expect(await keyFramesInWindows(LONG, long, [9.3, 12.2, 37.48, 112.48, 300, 301.5, 599.96], 2.5)).toEqual([
      null, // [6.8, 9.3] holds no key frame
      10,
      null,
      110,
      300, // a key frame exactly at t
      300,
      null,
    ]);
    expect(await keyFramesInWindows(LONG, long, [37.48, 599, 599.96], 9.375)).toEqual([30, 590, null]);
  });
});

describe('decodePlans (node) with key-frame snapping', () => {
  it('decodes the key frames before the samples of a long video, as the browser does', async () => {
    const plan = samplePlan(long.durationS, { frames: 8, frameRate: long.frameRate });
    expect(keyFrameTolerance(long.durationS, 8)).toBe(9.375);
    const keys = plan.unique.map((t) => Math.floor(t / 10) * 10);
    const [frames] = await decodePlans(LONG, long, [plan]);
    const atKeys = await decodeFrames(LONG, long, keys);
    const exact = await decodeFrames(LONG, long, plan.unique);
    frames!.forEach((f, i) => {
      expect(Buffer.from(f.data).equals(Buffer.from(atKeys[i]!.data)), `sample ${i} is the key frame at ${keys[i]} s`).toBe(true);
      // The 10 s segment repeats, so the frame 7.5 s or 2.5 s after a key frame is a different picture.
      expect(Buffer.from(f.data).equals(Buffer.from(exact[i]!.data)), `sample ${i} moved off ${plan.unique[i]} s`).toBe(false);
    });
  });

  it('decodes the exact times of a short video', async () => {
    const info = await probeVideo(SHORT);
    const plan = samplePlan(info.durationS, { frames: 32, frameRate: info.frameRate });
    const [frames] = await decodePlans(SHORT, info, [plan]);
    const exact = await decodeFrames(SHORT, info, plan.unique);
    frames!.forEach((f, i) => expect(Buffer.from(f.data).equals(Buffer.from(exact[plan.indexInUnique[i]!]!.data))).toBe(true));
  });
});
