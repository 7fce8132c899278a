import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY } from '../../../src/core/taxonomy.ts';
import { allSessions } from '../../corpus/capture.ts';
import { refuseReserved } from '../../corpus/provenance.ts';

const packages = new Set(
  readFileSync(fileURLToPath(new URL('../../corpus/packages.txt', import.meta.url)), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#')),
);

describe('live capture sessions', () => {
  const sessions = allSessions();

  it('have unique ids', () => {
    expect(new Set(sessions.map((s) => s.id)).size).toBe(sessions.length);
  });

  it('label footage with subclasses the taxonomy knows', () => {
    for (const s of sessions) {
      const cls = DEFAULT_TAXONOMY.classes.find((c) => c.id === s.classId);
      expect(
        cls?.subclasses.map((sub) => sub.id),
        s.id,
      ).toContain(s.subclass);
    }
  });

  it('never read a source reserved for evaluation', () => {
    for (const s of sessions) expect(() => refuseReserved(s.pkg, s.program), s.id).not.toThrow();
  });

  it('install every game they play through packages.txt', () => {
    for (const s of sessions.filter((x) => x.classId === 'gaming')) expect(packages, s.id).toContain(s.pkg);
  });

  it('click inside the recorded screen, and size KDE windows to it', () => {
    for (const s of sessions) {
      const [w, h] = s.size;
      for (const [x, y] of s.startClicks ?? []) {
        expect(x, s.id).toBeGreaterThanOrEqual(0);
        expect(x, s.id).toBeLessThan(w);
        expect(y, s.id).toBeGreaterThanOrEqual(0);
        expect(y, s.id).toBeLessThan(h);
      }
      if (s.cmd === '/usr/bin/dbus-run-session') {
        expect(s.args.slice(0, 2), s.id).toEqual(['--', s.program]);
        expect(s.args[s.args.indexOf('-geometry') + 1], s.id).toBe(`${w}x${h}+0+0`);
      }
    }
  });
});
