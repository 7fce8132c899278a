/** `vidkind extract` on real clips with a real (tiny, untrained) ONNX backbone: store, errors, shards, resume after kills (-9) at seeded-random points. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePlan } from '../../../src/core/sampling.ts';
import { openBackbone } from '../../src/backbone-runtime/session.ts';
import { decodePlans } from '../../src/decode/sampled-frames.ts';
import { probeVideo } from '../../src/decode/probe.ts';
import { extractFeatures, parseShard, shardOf } from '../../src/extract/extract-features.ts';
import { readLabels } from '../../src/extract/labels.ts';
import { FeatureItemSchema, itemKey, readIndex, readItemFeatures, StoreInfoSchema } from '../../src/features/store.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
import { Rng } from '../../src/train/rng.ts';
import { makeClip, makeModelsDir, TOY_SOURCES } from './test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
let dir = '';
const videos = () => join(dir, 'videos');
const models = () => join(dir, 'models');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidkind-extract-'));
  mkdirSync(videos());
  makeModelsDir(models());
  const lines = ['path,class,subclass,source'];
  for (const [cls, src] of Object.entries(TOY_SOURCES))
    for (let s = 0; s < 2; s++) {
      makeClip(join(videos(), `${cls}-${s}.mp4`), src(s), 1);
      lines.push(`${cls}-${s}.mp4,${cls},,${cls}-${s}`);
    }
  // A real clip cut in half: its index (moov, at the end) is missing, so it is a damaged video.
  makeClip(join(dir, 'whole.mp4'), TOY_SOURCES.flat(0), 1);
  const whole = readFileSync(join(dir, 'whole.mp4'));
  writeFileSync(join(videos(), 'broken.mp4'), whole.subarray(0, whole.length >> 1));
  lines.push('broken.mp4,flat,slides,deck-x');
  writeFileSync(join(dir, 'labels.csv'), lines.join('\n') + '\n');
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI, 'extract', '--videos', videos(), '--models', models(), '--backbone', 'tiny-test', ...args], {
    encoding: 'utf8',
  });

const baseArgs = () => [
  'extract',
  '--videos',
  videos(),
  '--models',
  models(),
  '--backbone',
  'tiny-test',
  '--labels',
  join(dir, 'labels.csv'),
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readIndexLines(out: string): number {
  const f = join(out, 'index.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
}

/**
 * A store after a kill: features.json and every index line parse, every indexed item has its whole
 * file, no item file is partial (writes are temp + rename), and temp files are never indexed.
 */
function expectStoreIntact(out: string, frames: number, dim: number): void {
  if (!existsSync(out)) return;
  if (existsSync(join(out, 'features.json'))) StoreInfoSchema.parse(JSON.parse(readFileSync(join(out, 'features.json'), 'utf8')));
  const bytes = frames * dim * 2;
  for (const name of readdirSync(out).filter((f) => f.startsWith('index'))) {
    const text = readFileSync(join(out, name), 'utf8');
    expect(text === '' || text.endsWith('\n'), `${name} ends with a whole line`).toBe(true);
    for (const line of text.split('\n').filter(Boolean)) {
      const item = FeatureItemSchema.parse(JSON.parse(line));
      expect(statSync(join(out, 'items', `${item.key}.f16`)).size).toBe(bytes);
    }
  }
  const items = existsSync(join(out, 'items')) ? readdirSync(join(out, 'items')) : [];
  for (const f of items.filter((f) => !f.endsWith('.tmp'))) {
    expect(f).toMatch(/^[0-9a-f]{24}\.f16$/);
    expect(statSync(join(out, 'items', f)).size, f).toBe(bytes);
  }
  for (const it of readIndex(out)) expect(items).toContain(`${it.key}.f16`);
}

describe('labels and shards', () => {
  it('reads labels and reports every bad line with its number', () => {
    const tax = readManifestFile(models()).taxonomy;
    expect(readLabels(join(dir, 'labels.csv'), videos(), tax)).toHaveLength(9);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'path,class,subclass,source\na.mp4,cartoon,,s\nb.mp4,flat,nope,s\nc.mp4,flat,,\n');
    expect(() => readLabels(bad, videos(), tax)).toThrow(/line 2: class "cartoon".*\n.*line 3: "nope".*\n.*line 4: empty source/s);
    const r = cli(['--labels', bad, '--out', join(dir, 'unused')]);
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'unused'))).toBe(false);
  });

  it('reads labels saved by a spreadsheet: semicolons between fields, CRLF, quotes, ids in any letter case', () => {
    const tax = readManifestFile(models()).taxonomy;
    const saved = join(dir, 'excel.csv');
    writeFileSync(
      saved,
      '\uFEFFPath;Class;Subclass;Source\r\n"my clips/a; b.mp4";Animation;Cartoon-2D;"deck ""one"""\r\nc.mp4;FLAT;;s2\r\n',
    );
    expect(readLabels(saved, videos(), tax)).toEqual([
      {
        path: 'my clips/a; b.mp4',
        file: join(videos(), 'my clips/a; b.mp4'),
        class: 'animation',
        subclass: 'cartoon-2d',
        source: 'deck "one"',
      },
      { path: 'c.mp4', file: join(videos(), 'c.mp4'), class: 'flat', subclass: '', source: 's2' },
    ]);
  });

  it('splits clips into disjoint shards by path', () => {
    expect(parseShard('2/3')).toEqual({ i: 2, n: 3 });
    expect(() => parseShard('0/3')).toThrow();
    expect(() => parseShard('4/3')).toThrow();
    const paths = Array.from({ length: 200 }, (_, i) => `clip-${i}.mp4`);
    const counts = [1, 2, 3].map((i) => paths.filter((p) => shardOf(p, 3) === i).length);
    expect(counts.reduce((a, b) => a + b)).toBe(200);
    counts.forEach((c) => expect(c).toBeGreaterThan(40));
  });
});

describe('extractFeatures', () => {
  it('stores features equal to the backbone on the decoded frames, logs the broken clip, and skips finished clips on rerun', async () => {
    const out = join(dir, 'features');
    const manifest = readManifestFile(models());
    const rows = readLabels(join(dir, 'labels.csv'), videos(), manifest.taxonomy);
    const opts = { rows, manifest, modelsDir: models(), backbone: 'tiny-test', out, frames: 8 };
    const first = await extractFeatures(opts);
    expect(first).toMatchObject({ total: 9, skipped: 0, extracted: 8, failed: 1, cancelled: false });
    const index = readIndex(out);
    expect(index.map((i) => i.path).sort()).toEqual(
      rows
        .filter((r) => r.path !== 'broken.mp4')
        .map((r) => r.path)
        .sort(),
    );
    const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors).toEqual([expect.objectContaining({ path: 'broken.mp4', code: 'corrupt-file' })]);

    // The stored features are the backbone's output on the planned frames (float16-rounded).
    const row = rows.find((r) => r.path === 'gaming-1.mp4')!;
    const info = await probeVideo(row.file);
    const plan = samplePlan(info.durationS, { frames: 8, frameRate: info.frameRate, frameCount: info.frameCount });
    const [frames] = await decodePlans(row.file, info, [plan]);
    const session = await openBackbone(models(), manifest.backbones[0]!);
    const expected = await session.embed(frames!);
    await session.release();
    const stored = readItemFeatures(out, itemKey('gaming-1.mp4'));
    expect(stored.length).toBe(8 * 16);
    let maxRel = 0;
    expected.forEach((v, i) => (maxRel = Math.max(maxRel, Math.abs(v - stored[i]!) / Math.max(1e-3, Math.abs(v)))));
    expect(maxRel).toBeLessThan(2e-3);
    expect(new Set(Array.from(stored)).size).toBeGreaterThan(16);

    const mtimes = index.map((i) => statSync(join(out, 'items', `${i.key}.f16`)).mtimeMs);
    const again = await extractFeatures(opts);
    expect(again).toMatchObject({ total: 9, skipped: 8, extracted: 0, failed: 1 });
    expect(index.map((i) => statSync(join(out, 'items', `${i.key}.f16`)).mtimeMs)).toEqual(mtimes);
  });

  it('gives the same store, in the same order, whether clips are decoded one or several ahead', async () => {
    const manifest = readManifestFile(models());
    const rows = readLabels(join(dir, 'labels.csv'), videos(), manifest.taxonomy);
    const base = { rows, manifest, modelsDir: models(), backbone: 'tiny-test', frames: 4 };
    const one = await extractFeatures({ ...base, out: join(dir, 'ahead-1'), decodeAhead: 1 });
    const four = await extractFeatures({ ...base, out: join(dir, 'ahead-4'), decodeAhead: 4 });
    expect(four).toMatchObject({ extracted: one.extracted, failed: one.failed, frames: one.frames });
    const [i1, i4] = [readIndex(join(dir, 'ahead-1')), readIndex(join(dir, 'ahead-4'))];
    expect(i4).toEqual(i1);
    for (const it of i1)
      expect(
        readFileSync(join(dir, 'ahead-4', 'items', `${it.key}.f16`)).equals(readFileSync(join(dir, 'ahead-1', 'items', `${it.key}.f16`))),
      ).toBe(true);
  });

  it('fills the store of each of several backbones from one decode, as one extraction per backbone does', async () => {
    // A second backbone of another size, in a models folder of its own (manifest entries are per folder).
    const two = join(dir, 'models-two');
    makeModelsDir(two, 'tiny-test');
    makeModelsDir(two, 'tiny-other', 8);
    const manifest = readManifestFile(two);
    const rows = readLabels(join(dir, 'labels.csv'), videos(), manifest.taxonomy);
    const base = { rows, manifest, modelsDir: two, frames: 4 };
    // One store already holds two clips: only the other store gets them.
    await extractFeatures({ ...base, rows: rows.slice(0, 2), backbone: 'tiny-test', out: join(dir, 'both-a') });
    const both = await extractFeatures({
      ...base,
      backbone: 'tiny-test',
      out: join(dir, 'both-a'),
      more: [{ backbone: 'tiny-other', out: join(dir, 'both-b') }],
    });
    expect(both).toMatchObject({ total: 9, skipped: 0, extracted: 8, failed: 1 });
    for (const [id, store] of [
      ['tiny-test', 'both-a'],
      ['tiny-other', 'both-b'],
    ] as const) {
      const alone = join(dir, `alone-${id}`);
      await extractFeatures({ ...base, backbone: id, out: alone });
      expect(
        readIndex(join(dir, store))
          .map((i) => i.key)
          .sort(),
      ).toEqual(
        readIndex(alone)
          .map((i) => i.key)
          .sort(),
      );
      for (const it of readIndex(alone)) expect(readItemFeatures(join(dir, store), it.key)).toEqual(readItemFeatures(alone, it.key));
      expect(readFileSync(join(dir, store, 'errors.jsonl'), 'utf8')).toMatch(/broken\.mp4/);
    }
    expect(readItemFeatures(join(dir, 'both-b'), readIndex(join(dir, 'both-b'))[0]!.key)).toHaveLength(4 * 8);
  });

  it('two shards together extract every clip once', async () => {
    const out = join(dir, 'sharded');
    const manifest = readManifestFile(models());
    const rows = readLabels(join(dir, 'labels.csv'), videos(), manifest.taxonomy).filter((r) => r.path !== 'broken.mp4');
    const base = { rows, manifest, modelsDir: models(), backbone: 'tiny-test', out, frames: 4 };
    const a = await extractFeatures({ ...base, shard: { i: 1, n: 2 } });
    const b = await extractFeatures({ ...base, shard: { i: 2, n: 2 } });
    expect(a.total + b.total).toBe(rows.length);
    expect(a.extracted + b.extracted).toBe(rows.length);
    expect(existsSync(join(out, 'index.1-of-2.jsonl')) && existsSync(join(out, 'index.2-of-2.jsonl'))).toBe(true);
    expect(readIndex(out)).toHaveLength(rows.length);
  });
});

describe('vidkind extract (CLI)', () => {
  it('kill -9 at 3 seeded-random points, rerun each time: no corrupt file, nothing finished redone, the same features as an uninterrupted run', async () => {
    const args = (out: string) => [CLI, ...baseArgs(), '--out', out, '--frames', '8'];
    // The uninterrupted reference, in-process (the CLI runs this same function).
    const reference = join(dir, 'reference');
    const manifest = readManifestFile(models());
    const rows = readLabels(join(dir, 'labels.csv'), videos(), manifest.taxonomy);
    await extractFeatures({ rows, manifest, modelsDir: models(), backbone: 'tiny-test', out: reference, frames: 8 });

    const out = join(dir, 'killed');
    // Seeded kill points, so that a failure reproduces.
    const rng = new Rng(20_251_126);
    const rand = () => rng.next();
    // Kill points: one at a random moment of start-up, then two after random numbers of finished clips,
    // each plus a random delay, so that kills land between clips, mid-decode and mid-write.
    const after = [0, 1 + Math.floor(rand() * 3), 4 + Math.floor(rand() * 3)];
    const finished = new Map<string, number>(); // item file -> mtime when first seen indexed
    let killed = 0;
    for (const target of after) {
      const child = spawn(process.execPath, args(out), { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
      const delay = (target === 0 ? 1000 : 100) * rand();
      let gone = false;
      void exited.then(() => (gone = true));
      while (!gone && readIndexLines(out) < target) await sleep(5);
      await sleep(delay);
      child.kill('SIGKILL');
      if ((await exited) === 'SIGKILL') killed++;
      expectStoreIntact(out, 8, 16);
      for (const i of readIndex(out)) {
        const f = join(out, 'items', `${i.key}.f16`);
        if (!finished.has(f)) finished.set(f, statSync(f).mtimeMs);
      }
    }
    expect(killed).toBe(3);
    expect(finished.size).toBeGreaterThanOrEqual(after[2]!);
    expect(finished.size).toBeLessThan(8);

    const r = spawnSync(process.execPath, args(out), { encoding: 'utf8' });
    expect(r.status).toBe(1); // the broken clip
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ total: 9, skipped: finished.size, extracted: 8 - finished.size, failed: 1 });
    // Nothing finished before a kill was written again.
    for (const [f, mtime] of finished) expect(statSync(f).mtimeMs, f).toBe(mtime);
    expectStoreIntact(out, 8, 16);
    // The same store as the uninterrupted run: same items, byte-equal features.
    const byKey = (d: string) => new Map(readIndex(d).map((i) => [i.key, i]));
    const want = byKey(reference);
    const got = byKey(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    expect(want.size).toBe(8);
    for (const [key, item] of want) {
      expect(got.get(key)).toEqual(item);
      expect(readFileSync(join(out, 'items', `${key}.f16`)).equals(readFileSync(join(reference, 'items', `${key}.f16`))), key).toBe(true);
    }
  });

  it('fails with a clear message for --device cuda without the CUDA provider', () => {
    const r = cli(['--labels', join(dir, 'labels.csv'), '--out', join(dir, 'cuda'), '--device', 'cuda']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CUDA provider of onnxruntime-node is not installed/);
    expect(existsSync(join(dir, 'cuda'))).toBe(false);
  });

  it('takes several backbones, each with its store, and refuses stores that do not match them one to one', () => {
    const two = join(dir, 'models-cli-two');
    makeModelsDir(two, 'tiny-test');
    makeModelsDir(two, 'tiny-other', 8);
    const run = (backbones: string, outs: string) =>
      spawnSync(
        process.execPath,
        [
          CLI,
          'extract',
          '--videos',
          videos(),
          '--models',
          two,
          '--labels',
          join(dir, 'labels.csv'),
          '--backbone',
          backbones,
          '--out',
          outs,
          '--frames',
          '4',
          '--no-progress',
        ],
        { encoding: 'utf8' },
      );
    const [a, b] = [join(dir, 'cli-a'), join(dir, 'cli-b')];
    const r = run('tiny-test,tiny-other', `${a},${b}`);
    expect(r.status, r.stderr).toBe(1); // the broken clip
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ command: 'extract', total: 9, extracted: 8, failed: 1 });
    expect(readIndex(a)).toHaveLength(8);
    expect(readIndex(b)).toHaveLength(8);
    expect(readItemFeatures(b, readIndex(b)[0]!.key)).toHaveLength(4 * 8);
    expect(r.stderr).toContain(`${b}/errors.jsonl`);
    for (const [backbones, outs] of [
      ['tiny-test,tiny-other', a],
      ['tiny-test,tiny-other', `${a},${a}`],
      ['tiny-test,nope', `${a},${b}`],
    ]) {
      const bad = run(backbones!, outs!);
      expect(bad.status, `${backbones} -> ${outs}`).toBe(2);
    }
  });
});
