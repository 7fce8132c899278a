/** Parses real ffprobe output (Debian's native ffprobe on the fixture clips: the same JSON as ffmpeg.wasm's). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerName, ffprobeComplaint, parseFfprobe, parseRational, parseShowinfoTimes } from '../../../src/core/ffprobe';

const MEDIA = path.resolve('tests/fixtures/media');

function probe(name: string): string {
  const file = path.join(MEDIA, name);
  if (!existsSync(file)) throw new Error(`${file} missing: run \`npm run fixtures\` first.`);
  return execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' });
}

describe('parseFfprobe on real files', () => {
  it('reads size, rate, frame count and codec of a constant-rate MP4', () => {
    expect(parseFfprobe(probe('h264.mp4'))).toMatchObject({
      container: 'mp4',
      video: { width: 320, height: 240, rotation: 0, frameRate: 25, frameCount: 100, codec: 'h264', durationS: 4, startS: 0 },
    });
  });

  it('turns a rotation matrix into a clockwise angle and a display size', () => {
    expect(parseFfprobe(probe('rotated.mp4')).video).toMatchObject({ width: 240, height: 320, rotation: 270 });
  });

  it('leaves the frame rate out for variable-frame-rate video', () => {
    const v = parseFfprobe(probe('vfr.mp4')).video!;
    expect(v.frameRate).toBeUndefined();
    expect(v.frameCount).toBe(80);
  });

  it('reports the start time of MPEG-TS and the duration of Matroska (format-level only)', () => {
    const ts = parseFfprobe(probe('h264.m2ts'));
    expect(ts.container).toBe('mpegts');
    expect(ts.video!.startS).toBeGreaterThan(1);
    expect(ts.video!.durationS).toBeCloseTo(4, 1);
    expect(parseFfprobe(probe('hevc.mkv')).video).toMatchObject({ codec: 'hevc', container: 'matroska', durationS: 4 });
  });

  it('says when there is no video, and what there is instead', () => {
    expect(parseFfprobe(probe('audio-only.mp4'))).toMatchObject({ video: null, streamTypes: ['audio'] });
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseFfprobe('Invalid data found when processing input')).toThrow(RangeError);
  });
});

describe('small parsers', () => {
  it('parses rationals and container names', () => {
    expect(parseRational('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRational('0/0')).toBeNull();
    expect(parseRational(undefined)).toBeNull();
    expect(containerName('mov,mp4,m4a,3gp,3g2,mj2')).toBe('mp4');
    expect(containerName('matroska,webm')).toBe('matroska');
    expect(containerName('avi')).toBe('avi');
  });

  it('reads the frame times that a named showinfo instance logged', () => {
    const log = execFileSync(
      'sh',
      ['-c', `ffmpeg -hide_banner -nostdin -copyts -i "${path.join(MEDIA, 'h264.m2ts')}" -frames:v 2 -vf showinfo@out -f null - 2>&1`],
      { encoding: 'utf8' },
    ).split('\n');
    const times = parseShowinfoTimes(log, 'showinfo@out');
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(times[0]).toBeCloseTo(1.48, 2);
    expect(times[1]! - times[0]!).toBeCloseTo(0.04, 3);
    expect(parseShowinfoTimes(log, 'showinfo@first')).toEqual([]);
  });
});

describe('ffprobeComplaint on real failures', () => {
  /** ffprobe's stderr then stdout, as one log of lines (ffmpeg.wasm's log holds both). */
  function failedProbeLog(name: string): string[] {
    const r = spawnSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path.join(MEDIA, name)], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    return [...r.stderr.split('\n'), ...r.stdout.split('\n')];
  }

  it('gives what ffprobe said about a text file and a truncated MP4, never the empty JSON after it', () => {
    for (const name of ['text.mp4', 'truncated.mp4']) {
      const log = failedProbeLog(name);
      expect(log.some((l) => l.trim() === '}')).toBe(true);
      expect(ffprobeComplaint(log)).toBe('Invalid data found when processing input');
    }
  });

  it('strips the demuxer prefix and skips the runtime abort; says "unreadable" when nothing was said', () => {
    expect(ffprobeComplaint(['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1c3f0] moov atom not found', '{', '', '}', 'Aborted()'])).toBe(
      'moov atom not found',
    );
    expect(ffprobeComplaint(['{', '', '}'])).toBe('unreadable');
    expect(ffprobeComplaint([])).toBe('unreadable');
  });
});
