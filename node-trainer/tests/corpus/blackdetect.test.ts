import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMostlyBlack, measureBlack } from '../../corpus/blackdetect.ts';
import { makeClip } from '../extract/test-models.ts';

/** Encodes 2 s of a lavfi source at 160x120, 15 fps, as the corpus encodes clips (H.264 in MP4). */
function encode(dir: string, name: string, source: string, filter = 'null'): string {
  const out = join(dir, `${name}.mp4`);
  makeClip(out, `${source}${source.includes('=') ? ':' : '='}s=160x120:r=15:d=2`, 2, filter);
  return out;
}

describe.concurrent('black-clip detector (native ffmpeg blackdetect)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vidkind-black-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('flags a clip that is black from start to end', async () => {
    const m = await measureBlack(encode(dir, 'black', 'color=c=black'));
    expect(m.duration).toBeCloseTo(2, 1);
    expect(m.black / m.duration).toBeGreaterThan(0.9);
    expect(isMostlyBlack(m)).toBe(true);
  });

  it('flags a black screen that shows only a mouse cursor (0.08% of the frame)', async () => {
    const m = await measureBlack(encode(dir, 'cursor', 'color=c=black', 'drawbox=x=70:y=50:w=4:h=4:c=white:t=fill'));
    expect(isMostlyBlack(m)).toBe(true);
  });

  it('keeps a normal clip', async () => {
    const m = await measureBlack(encode(dir, 'normal', 'testsrc2'));
    expect(m.black).toBe(0);
    expect(isMostlyBlack(m)).toBe(false);
  });

  it('keeps a clip that fades in from black over its first 0.6 s', async () => {
    const m = await measureBlack(encode(dir, 'fade', 'testsrc2', 'fade=in:st=0:d=0.6'));
    expect(m.black).toBeGreaterThan(0);
    expect(m.black).toBeLessThan(0.6);
    expect(isMostlyBlack(m)).toBe(false);
  });

  it('keeps a small object on black (1.3% of the frame)', async () => {
    const m = await measureBlack(encode(dir, 'object', 'color=c=black', 'drawbox=x=70:y=50:w=16:h=16:c=white:t=fill'));
    expect(isMostlyBlack(m)).toBe(false);
  });

  it('keeps a dark navy slide with a line of text', async () => {
    const m = await measureBlack(encode(dir, 'navy', 'color=c=0x000080', 'drawbox=x=20:y=56:w=60:h=4:c=white:t=fill'));
    expect(isMostlyBlack(m)).toBe(false);
  });

  it('flags a clip that goes black after 0.6 s (a window that vanishes)', async () => {
    const m = await measureBlack(encode(dir, 'vanish', 'testsrc2', "drawbox=c=black:t=fill:enable='gte(t,0.6)'"));
    expect(m.black).toBeGreaterThan(1.2);
    expect(isMostlyBlack(m)).toBe(true);
  });
});
