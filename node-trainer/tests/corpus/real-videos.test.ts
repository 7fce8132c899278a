import { describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY } from '../../../src/core/taxonomy.ts';
import { REAL_VIDEOS, checkRules, trainingPackages, type RealVideo } from '../../corpus/real-videos.ts';

describe('the real-video check set', () => {
  it('holds no reserved source and no source of the training corpus', () => {
    const training = trainingPackages();
    expect(training.size).toBeGreaterThan(20);
    expect(() => checkRules(REAL_VIDEOS, training)).not.toThrow();
    const sample: RealVideo = REAL_VIDEOS[0]!;
    expect(() => checkRules([{ ...sample, pkg: 'opencv-doc' }], training)).toThrow(/reserved/);
    expect(() => checkRules([{ ...sample, pkg: [...training][0]! }], training)).toThrow(/training corpus/);
  });

  it('labels every video with a class and subclass of the taxonomy, once, with a licence', () => {
    expect(new Set(REAL_VIDEOS.map((x) => `${x.pkg}:${x.path}`)).size).toBe(REAL_VIDEOS.length);
    for (const x of REAL_VIDEOS) {
      const cls = DEFAULT_TAXONOMY.classes.find((c) => c.id === x.class)!;
      if (x.subclass) expect(cls.subclasses.map((s) => s.id)).toContain(x.subclass);
      expect(x.licence).not.toBe('');
    }
    // Every kind is there.
    expect(new Set(REAL_VIDEOS.map((x) => x.class)).size).toBe(4);
  });
});
