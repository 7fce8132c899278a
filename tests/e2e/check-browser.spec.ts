/**
 * `npm run check:browser` (bench/check-browser.ts): the app in Chromium on labelled videos, scored as
 * `vidkind check` scores the CLI. Run on the built site (--no-build: the e2e step builds first) with
 * two good fixtures and one that is no video, compared with a report of the same shape, then with
 * a models folder picked in the app (--models).
 */
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTestModels } from './infer-models';

test('check:browser classifies labelled videos in the app, scores them, lists the failure and compares with a CLI report', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'vidkind-check-browser-'));
  try {
    const media = path.resolve('tests/fixtures/media');
    const labels = path.join(dir, 'labels.csv');
    writeFileSync(
      labels,
      ['path,class,subclass,source', 'h264.mp4,animation,,testsrc', 'mpeg4.avi,flat,,testsrc', 'text.mp4,natural,,text', ''].join('\n'),
    );
    // A stand-in for `vidkind check --out`: the same files, one verdict made different on purpose.
    const other = path.join(dir, 'cli.json');
    const out = path.join(dir, 'browser.json');
    const run = (extra: string[]) =>
      spawnSync(
        'node',
        ['--import', 'tsx', 'bench/check-browser.ts', '--no-build', '--labels', labels, '--videos', media, '--out', out, ...extra],
        {
          encoding: 'utf8',
          timeout: 240_000,
        },
      );
    const first = run([]);
    expect(first.status, first.stderr).toBe(1);
    expect(first.stdout).toContain('2 of 3 labelled videos classified');
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      format: string;
      files: Array<{ path: string; predicted: string | null; confidence: number | null; error?: { code: string } }>;
    };
    expect(report.format).toBe('vidkind-check/1');
    expect(report.files.map((f) => f.path)).toEqual(['h264.mp4', 'mpeg4.avi', 'text.mp4']);
    expect(report.files.slice(0, 2).every((f) => f.predicted !== null && f.confidence! > 0.25)).toBe(true);
    expect(report.files[2]).toMatchObject({ predicted: null, error: { code: 'unsupported-container' } });

    const changed = structuredClone(report);
    changed.files[0]!.predicted = ['animation', 'gaming', 'natural', 'flat'].find((c) => c !== report.files[0]!.predicted)!;
    writeFileSync(other, JSON.stringify(changed));
    const second = run(['--compare', other]);
    expect(second.status, second.stderr).toBe(1);
    expect(second.stdout).toContain('Same verdict on 1 of 3 files.');
    expect(second.stdout).toMatch(new RegExp(`\\| h264\\.mp4 \\| ${changed.files[0]!.predicted} `));

    // Other models, from a folder picked in the app's Settings: the report says which ran.
    const models = path.join(dir, 'models');
    writeTestModels(models, { frames: 8 });
    const third = run(['--models', models]);
    expect(third.status, third.stderr).toBe(1);
    const own = JSON.parse(readFileSync(out, 'utf8')) as typeof report & { models: { ensemble: string; dir: string } };
    expect(own.models.ensemble).toBe('test-single');
    expect(own.models.dir).toContain("picked in the app's Settings");
    expect(own.files.slice(0, 2).every((f) => f.predicted !== null)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
