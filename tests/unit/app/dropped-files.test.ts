import { describe, expect, it } from 'vitest';
import { keepVideos, looksLikeVideo } from '../../../src/app/dropped-files';
import { clock, clockTenths, count, subclassLabel } from '../../../src/app/format';

const file = (name: string, type = '') => new File([new Uint8Array(4)], name, { type });

describe('dropped files', () => {
  it('recognises videos by MIME type or extension', () => {
    expect(looksLikeVideo(file('a.bin', 'video/mp4'))).toBe(true);
    expect(looksLikeVideo(file('clip.MKV'))).toBe(true);
    expect(looksLikeVideo(file('dance.gif', 'image/gif'))).toBe(true);
    expect(looksLikeVideo(file('notes.txt', 'text/plain'))).toBe(false);
    expect(looksLikeVideo(file('README'))).toBe(false);
  });

  it('skips non-videos found inside folders but keeps every loose file the person chose', () => {
    const picked = [
      { file: file('notes.txt'), path: 'holiday/notes.txt' },
      { file: file('beach.mp4'), path: 'holiday/beach.mp4' },
      { file: file('odd.bin'), path: 'odd.bin' },
    ];
    const { files, skipped } = keepVideos(picked);
    expect(files.map((f) => f.path)).toEqual(['holiday/beach.mp4', 'odd.bin']);
    expect(skipped).toBe(1);
  });

  it('recognises a dropped models folder (manifest.json and ONNX files) among the skipped files', () => {
    const exported = [
      { file: file('manifest.json'), path: 'mine/manifest.json' },
      { file: file('a.onnx'), path: 'mine/heads/a.onnx' },
      { file: file('MODEL_CARD.md'), path: 'mine/MODEL_CARD.md' },
      { file: file('clip.mp4'), path: 'mine/clip.mp4' },
    ];
    const { files, skipped, models } = keepVideos(exported);
    expect(files.map((f) => f.path)).toEqual(['mine/clip.mp4']);
    expect(skipped).toBe(3);
    expect(models?.map((f) => f.path)).toEqual(['mine/manifest.json', 'mine/heads/a.onnx', 'mine/MODEL_CARD.md']);
    expect(keepVideos(exported.filter((f) => !f.path.endsWith('.onnx'))).models).toBeNull();
    expect(keepVideos(exported.filter((f) => !f.path.endsWith('manifest.json'))).models).toBeNull();
  });
});

describe('formatting', () => {
  it('formats times as clocks', () => {
    expect(clock(75)).toBe('1:15');
    expect(clock(3725)).toBe('1:02:05');
    expect(clockTenths(1.56)).toBe('0:01.5');
  });

  it('writes counts with thousands separators', () => {
    expect(count(1955)).toBe('1,955');
    expect(count(103)).toBe('103');
  });

  it('names subclasses from the taxonomy, falling back to the id', () => {
    expect(subclassLabel('animation', 'cartoon-2d')).toBe('2D cartoon');
    expect(subclassLabel('flat', 'unknown-kind')).toBe('unknown-kind');
  });
});
