/**
 * `vidkind fit`: videos sorted into class folders -> a models folder the site can use, through the
 * CLI as a user runs it, with the shipped backbones (public/models) and the default recipe.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY } from '../../../src/core/taxonomy.ts';
import { labelFromPath, labelsFromFolders } from '../../src/extract/folder-labels.ts';
import { labelsCsv, readLabels } from '../../src/extract/labels.ts';
import { headToOnnx } from '../../src/export/head-onnx.ts';
import { DEFAULT_RECIPE, labelProblem, memberStarts } from '../../src/fit/fit.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { headConfigFor } from '../../src/train/loop.ts';
import { readManifestFile, writeManifestFile } from '../../src/manifest-file.ts';
import { makeClip, randomHead, TOY_SOURCES } from '../extract/test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
const BASE = resolve(__dirname, '../../../public/models');
const vidkind = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args, ...(args[0] === 'fit' ? ['--base', BASE] : [])], { encoding: 'utf8', timeout: 600_000 });
const jsonLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('labels from class folders', () => {
  it('takes the class from the first folder, a subclass from the next when it names one, and the folder as the source', () => {
    const t = DEFAULT_TAXONOMY;
    expect(labelFromPath('gaming/minecraft/run1.mp4', t)).toEqual({
      path: 'gaming/minecraft/run1.mp4',
      class: 'gaming',
      subclass: '',
      source: 'gaming/minecraft',
    });
    expect(labelFromPath('Gaming/Sandbox/minecraft/day 2/a.mkv', t)).toEqual({
      path: 'Gaming/Sandbox/minecraft/day 2/a.mkv',
      class: 'gaming',
      subclass: 'sandbox',
      source: 'Gaming/Sandbox/minecraft/day 2',
    });
    // Directly in the class or subclass folder: each video is a source of its own.
    expect(labelFromPath('flat/deck.mp4', t)?.source).toBe('flat/deck.mp4');
    expect(labelFromPath('flat/slides/deck.mp4', t)).toMatchObject({ subclass: 'slides', source: 'flat/slides/deck.mp4' });
    // A folder named like a subclass of another class is a source folder.
    expect(labelFromPath('natural/slides/x.mp4', t)).toMatchObject({ subclass: '', source: 'natural/slides' });
    expect(labelFromPath('loose.mp4', t)).toBeNull();
    expect(labelFromPath('cartoons/a.mp4', t)).toBeNull();
  });

  it('walks a folder for videos, skips those outside class folders, and writes a CSV that reads back the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidkind-folders-'));
    try {
      for (const p of [
        'animation/show/a.mp4',
        'animation/b.webm',
        'flat/slides/deck.mkv',
        'misc/c.mp4',
        'd.mp4',
        'flat/notes.txt',
        'flat/.hidden.mp4',
      ]) {
        mkdirSync(join(dir, p, '..'), { recursive: true });
        writeFileSync(join(dir, p), 'x');
      }
      const { rows, skipped } = labelsFromFolders(dir, DEFAULT_TAXONOMY);
      expect(rows.map((r) => [r.path, r.class, r.subclass, r.source])).toEqual([
        ['animation/b.webm', 'animation', '', 'animation/b.webm'],
        ['animation/show/a.mp4', 'animation', '', 'animation/show'],
        ['flat/slides/deck.mkv', 'flat', 'slides', 'flat/slides/deck.mkv'],
      ]);
      expect(rows[0]!.file).toBe(join(dir, 'animation/b.webm'));
      expect(skipped.sort()).toEqual(['d.mp4', 'misc/c.mp4']);
      writeFileSync(join(dir, 'labels.csv'), labelsCsv([...rows, { path: 'flat/a, "b".mp4', class: 'flat', subclass: '', source: 'x,y' }]));
      const back = readLabels(join(dir, 'labels.csv'), dir, DEFAULT_TAXONOMY);
      expect(back.map((r) => [r.path, r.class, r.subclass, r.source])).toEqual([
        ...rows.map((r) => [r.path, r.class, r.subclass, r.source]),
        ['flat/a, "b".mp4', 'flat', '', 'x,y'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for two classes and three sources in each', () => {
    const rows = (spec: Record<string, number>) =>
      Object.entries(spec).flatMap(([cls, n]) => Array.from({ length: n }, (_, i) => ({ class: cls as 'gaming', source: `${cls}-${i}` })));
    expect(labelProblem(rows({ gaming: 5 }), '')).toMatch(/at least two classes .*gaming 5 video\(s\) from 5 source\(s\)/);
    expect(labelProblem(rows({ gaming: 3, flat: 2 }), '')).toMatch(/at least 3 sources.*flat has fewer/);
    expect(labelProblem(rows({ gaming: 3, flat: 3 }), '')).toBeNull();
  });
});

describe('vidkind fit', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vidkind-fit-'));
    // Four classes, three sources each (one a folder of two clips), and two videos outside any class folder.
    for (const [cls, src] of Object.entries(TOY_SOURCES))
      for (let s = 0; s < 3; s++) {
        mkdirSync(join(dir, 'videos', cls, `source-${s}`), { recursive: true });
        makeClip(join(dir, 'videos', cls, `source-${s}`, 'clip.mp4'), src(s), 1.2);
      }
    makeClip(join(dir, 'videos', 'gaming', 'source-0', 'clip-2.mp4'), TOY_SOURCES.gaming(5), 1.2);
    mkdirSync(join(dir, 'videos', 'unsorted'));
    makeClip(join(dir, 'videos', 'unsorted', 'what.mp4'), TOY_SOURCES.flat(1), 1);
    makeClip(join(dir, 'videos', 'loose.mp4'), TOY_SOURCES.flat(2), 1);
    writeFileSync(join(dir, 'videos', 'gaming', 'source-1', 'broken.mp4'), 'not a video');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains on class folders and exports a models folder that classifies; a rerun reuses the work', () => {
    const to = join(dir, 'my-models');
    const r = vidkind('fit', '--videos', join(dir, 'videos'), '--to', to, '--no-progress');
    expect(r.status, r.stderr).toBe(1); // one video could not be read
    const out = jsonLine(r.stdout);
    expect(out).toMatchObject({ command: 'fit', cancelled: false, videos: 14, skipped: 2, failed: 1, clips: 13, ensemble: 'mine' });
    // Three folds (three sources in the smallest class), every clip predicted once; the toy looks are easy.
    expect(out.crossValidation).toMatchObject({ folds: 3, clips: 13 });
    expect((out.crossValidation as { macroF1: number }).macroF1).toBeGreaterThan(0.5);
    expect(r.stderr).toMatch(/\[2\/4\] cross-validation by source: 3 folds of 2 head\(s\) on 13 clips/);
    // The site's models on the same videos, for comparison: its default ensemble, every clip scored.
    expect(out.baseModels).toMatchObject({ ensemble: readManifestFile(BASE).defaultEnsemble, clips: 13 });
    expect(r.stderr).toMatch(/The base folder's models \(".*"\) on the same 13 videos: accuracy/);
    expect(r.stderr).toMatch(/skipped 2 video\(s\) outside a class folder/);
    // Each head starts from the base's default head on its backbone.
    const baseManifest = readManifestFile(BASE);
    const baseHeads = baseManifest.ensembles.find((e) => e.id === baseManifest.defaultEnsemble)!.members;
    expect(r.stderr).toMatch(new RegExp(`heads start from the base folder's: ${DEFAULT_RECIPE.backbones[0]} from ${baseHeads[0]}`));
    expect(r.stderr).toMatch(/Use models from a folder/);
    expect(readFileSync(join(dir, 'my-models-work', 'labels.csv'), 'utf8')).toContain('gaming/source-0/clip-2.mp4,gaming,,gaming/source-0');

    // The new folder: its own default ensemble, one head per recipe backbone, and only those backbones.
    const m = readManifestFile(to);
    expect(m.defaultEnsemble).toBe('mine');
    const ens = m.ensembles.find((e) => e.id === 'mine')!;
    expect(m.heads.map((h) => h.frames)).toEqual(DEFAULT_RECIPE.backbones.map(() => DEFAULT_RECIPE.appFrames));
    expect(ens.members.map((h) => m.heads.find((x) => x.id === h)!.backbone)).toEqual(DEFAULT_RECIPE.backbones);
    expect(m.backbones.map((b) => b.id).sort()).toEqual([...DEFAULT_RECIPE.backbones].sort());
    for (const f of [...m.backbones, ...m.heads].map((e) => e.file)) expect(existsSync(join(to, f)), f).toBe(true);
    // The card holds the cross-validation; the manifest the calibration fitted on it.
    const card = readFileSync(join(to, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/Cross-validation by source/);
    // Where each head started, by head and folder name (not the path on the machine that trained).
    expect(card).toContain(`start from head \`${baseHeads[0]}\` of the models folder "models"`);
    expect(card).not.toContain(BASE);
    expect(m.ensembles.find((e) => e.id === 'mine')!.crossValidation).toMatchObject({ clips: 13 });

    const c = vidkind('classify', '--models', to, '--no-progress', join(dir, 'videos', 'loose.mp4'));
    expect(c.status, c.stderr).toBe(0);
    const result = jsonLine(c.stdout) as { models: { ensemble: string }; verdict: { class: string } };
    expect(result.models.ensemble).toBe('mine');

    // The same folder again is refused before any work; a new folder from the same work folder
    // reuses the features and the finished training, so its heads are the same bytes.
    const again = vidkind('fit', '--videos', join(dir, 'videos'), '--to', to, '--no-progress');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds models/);
    const to2 = join(dir, 'second');
    const r2 = vidkind('fit', '--videos', join(dir, 'videos'), '--to', to2, '--work', join(dir, 'my-models-work'), '--no-progress');
    expect(r2.status, r2.stderr).toBe(1);
    const m2 = readManifestFile(to2);
    expect(m2.heads.map((h) => h.sha256)).toEqual(m.heads.map((h) => h.sha256));

    // --no-from-base: the same features, heads trained from a seeded start instead (cross-validated again).
    const to3 = join(dir, 'fresh');
    const r3 = vidkind(
      'fit',
      '--videos',
      join(dir, 'videos'),
      '--to',
      to3,
      '--work',
      join(dir, 'my-models-work'),
      '--no-from-base',
      '--no-progress',
    );
    expect(r3.status, r3.stderr).toBe(1);
    expect(r3.stderr).not.toMatch(/heads start from the base/);
    expect(r3.stderr).toMatch(/\[2\/4\] cross-validation by source/);
    expect(readManifestFile(to3).heads.map((h) => h.sha256)).not.toEqual(m.heads.map((h) => h.sha256));
  }, 600_000);

  it('refuses, before extracting anything, labels that cannot be scored on unseen sources', () => {
    const csv = join(dir, 'few.csv');
    writeFileSync(csv, 'path,class,subclass,source\nanimation/source-0/clip.mp4,animation,,a\nflat/source-0/clip.mp4,flat,,b\n');
    const r = vidkind('fit', '--videos', join(dir, 'videos'), '--labels', csv, '--to', join(dir, 'none'), '--no-progress');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/at least 3 sources.*animation, flat have fewer/);
    expect(existsSync(join(dir, 'none-work', 'features'))).toBe(false);
    const bad = vidkind('fit', '--videos', join(dir, 'videos'), '--to', join(dir, 'none'), '--config', '{"epochs":"x"}', '--no-progress');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad training settings \(--config\): epochs: /);
    expect(vidkind('fit', '--videos', join(dir, 'videos'), '--to', join(dir, 'none'), '--config', '[1]').status).toBe(2);
  });
});

describe('where each head starts', () => {
  it("takes the base's default head on each backbone, and a seeded start where that head cannot be one (with why)", async () => {
    const config = parseTrainConfig(DEFAULT_RECIPE.config);
    const shipped = await memberStarts(BASE, readManifestFile(BASE), config);
    const m = readManifestFile(BASE);
    const heads = m.ensembles.find((e) => e.id === m.defaultEnsemble)!.members;
    expect(shipped.map((s) => ('anchor' in s ? s.anchor.head : s.seeded))).toEqual(
      DEFAULT_RECIPE.backbones.map((b) => heads.find((id) => m.heads.find((h) => h.id === id)!.backbone === b)),
    );

    // A base whose head on the second backbone is an attention head: that member starts seeded.
    const dir = mkdtempSync(join(tmpdir(), 'vidkind-fit-starts-'));
    try {
      cpSync(join(BASE, 'heads'), join(dir, 'heads'), { recursive: true });
      const backbone = DEFAULT_RECIPE.backbones[1]!;
      const dim = m.backbones.find((b) => b.id === backbone)!.output.dim;
      const attention = headConfigFor(parseTrainConfig({ lstmHidden: 8, lstmLayers: 1, attnHeads: 2, projDim: 8, poolHidden: 8 }), dim);
      const bytes = headToOnnx(attention, randomHead(attention, 3));
      writeFileSync(join(dir, 'heads', 'attention.onnx'), bytes);
      writeManifestFile(dir, {
        ...m,
        heads: m.heads.map((h) =>
          h.backbone === backbone
            ? { ...h, file: 'heads/attention.onnx', sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }
            : h,
        ),
      });
      const starts = await memberStarts(dir, readManifestFile(dir), config);
      expect('anchor' in starts[0]!).toBe(true);
      expect(starts[1]).toEqual({ seeded: expect.stringMatching(/is not a stats head of this shape/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
