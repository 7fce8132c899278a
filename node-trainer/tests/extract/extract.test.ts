/** `vidkind extract` on real clips with a real (tiny, untrained) ONNX backbone: store, errors, shards, resume after kill -9. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePlan } from '../../../src/core/sampling.ts';
import { openBackbone } from '../../src/backbone-runtime/session.ts';
import { decodePlans } from '../../src/decode/sampled-frames.ts';
import { probeVideo } from '../../src/decode/probe.ts';
import { extractFeatures, parseShard, shardOf } from '../../src/extract/extract-features.ts';
import { readLabels } from '../../src/extract/labels.ts';
import { itemKey, readIndex, readItemFeatures } from '../../src/features/store.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
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
  it('after kill -9, a rerun redoes nothing that was finished', async () => {
    const out = join(dir, 'killed');
    // `seek` is the slow strategy here, which leaves time to kill the run between clips.
    const args = [
      CLI,
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
    const child = spawn(process.execPath, [...args, '--out', out, '--frames', '8', '--decode', 'seek'], { stdio: 'ignore' });
    const indexFile = join(out, 'index.jsonl');
    const lines = () => (existsSync(indexFile) ? readFileSync(indexFile, 'utf8').split('\n').filter(Boolean).length : 0);
    const exited = new Promise((r) => child.on('exit', r));
    for (let t = 0; t < 1200 && lines() < 2; t++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const before = readIndex(out);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeLessThan(8);
    const mtimes = before.map((i) => statSync(join(out, 'items', `${i.key}.f16`)).mtimeMs);

    const r = spawnSync(process.execPath, [...args, '--out', out, '--frames', '8'], { encoding: 'utf8' });
    expect(r.status).toBe(1); // the broken clip
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ total: 9, skipped: before.length, extracted: 8 - before.length, failed: 1 });
    expect(before.map((i) => statSync(join(out, 'items', `${i.key}.f16`)).mtimeMs)).toEqual(mtimes);
    expect(readIndex(out)).toHaveLength(8);
  });

  it('fails with a clear message for --device cuda without the CUDA provider', () => {
    const r = cli(['--labels', join(dir, 'labels.csv'), '--out', join(dir, 'cuda'), '--device', 'cuda']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CUDA provider of onnxruntime-node is not installed/);
    expect(existsSync(join(dir, 'cuda'))).toBe(false);
  });
});
