/** `vidkind classify` with real models (tiny backbone + exported head, random weights) on real clips. */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softmax } from '../../../src/core/postprocess.ts';
import { ResultSchema, type SuccessResult } from '../../../src/core/result.ts';
import { samplePlan } from '../../../src/core/sampling.ts';
import { CLASS_IDS, DEFAULT_TAXONOMY, className, flattenSubclasses } from '../../../src/core/taxonomy.ts';
import { openBackbone } from '../../src/backbone-runtime/session.ts';
import { collectInputs } from '../../src/classify/inputs.ts';
import { decodePlans } from '../../src/decode/sampled-frames.ts';
import { probeVideo } from '../../src/decode/probe.ts';
import { exportRun } from '../../src/export/export-run.ts';
import { saveHead } from '../../src/head/checkpoint.ts';
import { HeadConfigSchema, type HeadWeights } from '../../src/head/params.ts';
import { referenceForward } from '../../src/head/reference-forward.ts';
import { readManifestFile } from '../../src/manifest-file.ts';
import type { CheckReport } from '../../src/eval/check.ts';
import { makeClip, makeModelsDir, randomHead, SWIFTSHADER_ICD, TOY_SOURCES, vulkanEnv } from '../extract/test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
const SUBS = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);
const config = HeadConfigSchema.parse({
  featureDim: 16,
  projDim: 16,
  lstmHidden: 8,
  lstmLayers: 2,
  attnHeads: 2,
  poolHidden: 8,
  subclasses: SUBS.length,
});
let dir = '';
let weights: HeadWeights;
const models = () => join(dir, 'models');
const videos = () => join(dir, 'videos');

const classify = (args: string[]) => spawnSync(process.execPath, [CLI, 'classify', '--models', models(), ...args], { encoding: 'utf8' });
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => ResultSchema.parse(JSON.parse(l)));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidkind-classify-'));
  makeModelsDir(models());
  weights = randomHead(config, 21);
  saveHead(
    join(dir, 'run', 'best'),
    { format: 'vidkind-head/1', config, backbone: 'tiny-test', frames: 8, classes: [...CLASS_IDS], subclasses: SUBS, meta: {} },
    weights,
  );
  await exportRun({ run: join(dir, 'run'), to: models(), id: 'toy', testModel: true, tfjsParity: false });
  mkdirSync(join(videos(), 'sub'), { recursive: true });
  makeClip(join(videos(), 'a.mp4'), TOY_SOURCES.gaming(0), 2);
  makeClip(join(videos(), 'sub', 'b.mkv'), TOY_SOURCES.flat(1), 2);
  writeFileSync(join(videos(), 'notes.txt'), 'not a video, and not picked up from a directory');
  // A real clip cut in half (its index is at the end): a damaged video.
  const whole = readFileSync(join(videos(), 'a.mp4'));
  writeFileSync(join(dir, 'broken.mp4'), whole.subarray(0, whole.length >> 1));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vidkind classify', () => {
  it('prints one valid Result per file, equal to the reference head on the same frames; exit 1 when one fails', async () => {
    const r = classify([videos(), join(dir, 'broken.mp4')]);
    expect(r.status, r.stderr).toBe(1);
    const results = lines(r.stdout);
    expect(results.map((x) => x.file)).toEqual([join(videos(), 'a.mp4'), join(videos(), 'sub', 'b.mkv'), join(dir, 'broken.mp4')]);
    expect(results[2]).toMatchObject({ error: { code: 'corrupt-file' } });
    // A closing line on stderr counts the verdicts and the failure.
    const summary = /vidkind classify: (3 files: .+; 1 failed)\n/.exec(r.stderr)?.[1];
    expect(summary, r.stderr).toBeDefined();
    const names = results.flatMap((x) => ('label' in x ? [className(DEFAULT_TAXONOMY, x.label)] : []));
    expect(names).toHaveLength(2);
    for (const name of new Set(names)) expect(summary).toContain(`${names.filter((n) => n === name).length} ${name}`);
    const a = results[0] as SuccessResult;
    expect(a.models).toEqual({ backbones: ['tiny-test'], ensemble: 'toy', tta: false, provider: 'onnxruntime-node' });
    expect(a.attention).toHaveLength(8);
    expect(a.segments.length).toBeGreaterThanOrEqual(1);
    expect(a.video).toMatchObject({ width: 160, height: 120, decoder: 'ffmpeg' });

    // Independently: decode, embed, reference forward, softmax.
    const file = join(videos(), 'a.mp4');
    const info = await probeVideo(file);
    const plan = samplePlan(info.durationS, { frames: 8, frameRate: info.frameRate, frameCount: info.frameCount });
    const [frames] = await decodePlans(file, info, [plan]);
    const manifest = readManifestFile(models());
    const session = await openBackbone(models(), manifest.backbones[0]!);
    const feats = await session.embed(frames!);
    await session.release();
    const ref = referenceForward(config, weights, feats, 1, 8);
    const p = softmax(ref.logits, manifest.ensembles[0]!.temperature);
    CLASS_IDS.forEach((c, i) => expect(Math.abs(a.probs[c] - p[i]!)).toBeLessThan(1e-4));
    expect(a.label).toBe(CLASS_IDS[p.indexOf(Math.max(...p))]);
    Array.from(ref.attention).forEach((v, i) => expect(Math.abs(a.attention[i]! - v)).toBeLessThan(1e-4));
  });

  it('--tta runs the manifest views; csv and table formats; exit 0 when all succeed', () => {
    const plain = lines(classify([join(videos(), 'a.mp4')]).stdout)[0] as SuccessResult;
    const r = classify([join(videos(), 'a.mp4'), '--tta']);
    expect(r.status, r.stderr).toBe(0);
    const tta = lines(r.stdout)[0] as SuccessResult;
    expect(tta.models.tta).toBe(true);
    expect(Math.max(...CLASS_IDS.map((c) => Math.abs(tta.probs[c] - plain.probs[c])))).toBeGreaterThan(1e-6);

    const csv = classify([videos(), join(dir, 'broken.mp4'), '--format', 'csv']);
    expect(csv.status).toBe(1);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^file,label,confidence,p_animation/);
    expect(rows).toHaveLength(4);
    expect(rows[3]).toMatch(/corrupt-file/);
    // A newline is legal in a Unix file name; the table shows it escaped, one line per file.
    const oddName = join(dir, 'two\nlines.mp4');
    copyFileSync(join(videos(), 'a.mp4'), oddName);
    const table = classify([videos(), join(dir, 'broken.mp4'), oddName, '--format', 'table']);
    expect(table.stdout).toMatch(/a\.mp4\s+(animation|gaming|natural|flat)\s+\d+\.\d%/);
    expect(table.stdout).toMatch(/broken\.mp4\s+ERROR\s+corrupt-file/);
    expect(table.stdout).toMatch(/two\\nlines\.mp4\s+(animation|gaming|natural|flat)\s+\d+\.\d%/);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(5);
  });

  it('--device webgpu (SwiftShader here) gives the CPU verdict; heads stay on the CPU', () => {
    const env = vulkanEnv(SWIFTSHADER_ICD);
    const run = (device: string) =>
      spawnSync(process.execPath, [CLI, 'classify', '--models', models(), join(videos(), 'a.mp4'), '--device', device], {
        encoding: 'utf8',
        env,
      });
    const gpu = run('webgpu');
    expect(gpu.status, gpu.stderr).toBe(0);
    const cpu = lines(run('cpu').stdout)[0] as SuccessResult;
    const g = lines(gpu.stdout)[0] as SuccessResult;
    expect(g.models.provider).toBe('onnxruntime-node (webgpu backbones, cpu heads)');
    expect(g.label).toBe(cpu.label);
    expect(Math.max(...CLASS_IDS.map((c) => Math.abs(g.probs[c] - cpu.probs[c])))).toBeLessThan(1e-3);
  }, 120_000);

  it('exit 2 on usage errors', () => {
    expect(classify([join(dir, 'nope.mp4')]).status).toBe(2);
    expect(classify([videos(), '--ensemble', 'nope']).status).toBe(2);
    expect(classify([videos(), '--format', 'xml']).status).toBe(2);
    expect(classify([join(dir, 'run')]).status).toBe(2); // a directory without videos
  });

  it('refuses a model file whose sha256 differs from the manifest (model-integrity for every file)', () => {
    const tampered = join(dir, 'tampered');
    mkdirSync(tampered);
    const m = readManifestFile(models());
    for (const f of [m.backbones[0]!.file, m.heads[0]!.file]) {
      mkdirSync(join(tampered, f, '..'), { recursive: true });
      writeFileSync(join(tampered, f), readFileSync(join(models(), f)));
    }
    writeFileSync(join(tampered, 'manifest.json'), readFileSync(join(models(), 'manifest.json')));
    const head = readFileSync(join(tampered, m.heads[0]!.file));
    head[head.length - 5] = head[head.length - 5]! ^ 0xff;
    writeFileSync(join(tampered, m.heads[0]!.file), head);
    const r = spawnSync(process.execPath, [CLI, 'classify', '--models', tampered, videos()], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const results = lines(r.stdout);
    expect(results).toHaveLength(2);
    for (const x of results) expect(x).toMatchObject({ error: { code: 'model-integrity' } });
  });

  it('walks directories for video extensions only', () => {
    const { files, missing, unreadable } = collectInputs([videos(), join(dir, 'missing.mp4')]);
    expect(files).toEqual([join(videos(), 'a.mp4'), join(videos(), 'sub', 'b.mkv')]);
    expect(missing).toEqual([join(dir, 'missing.mp4')]);
    expect(unreadable).toEqual([]);
  });

  it('ends quietly when the reader of its output stops early (| head -1)', async () => {
    const child = spawn(process.execPath, [CLI, 'classify', '--models', models(), '--no-progress', videos()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The first result line, then the pipe is closed, as `head -1` does.
    await new Promise<void>((done) => child.stdout.once('data', () => done()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).not.toMatch(/EPIPE|at .*\.ts:\d+/);
    expect(code).toBe(0);
  });

  it('follows links to folders but never walks one twice, and names what it cannot read (link loops, a dangling link, a name not in UTF-8)', () => {
    const tree = join(dir, 'linked');
    mkdirSync(join(tree, 'inner'), { recursive: true });
    symlinkSync(videos(), join(tree, 'inner', 'videos-link'));
    // A link back up the tree, and two links that point at each other (ELOOP for stat).
    symlinkSync(tree, join(tree, 'inner', 'up'));
    symlinkSync(join(tree, 'loop-b'), join(tree, 'loop-a'));
    symlinkSync(join(tree, 'loop-a'), join(tree, 'loop-b'));
    // A video whose name is Latin-1 bytes, not UTF-8, and a link to a video that is gone.
    copyFileSync(join(videos(), 'a.mp4'), Buffer.concat([Buffer.from(join(tree, 'caf')), Buffer.from([0xe9]), Buffer.from('.mp4')]));
    symlinkSync(join(tree, 'gone.mp4'), join(tree, 'dangling.mp4'));
    const { files, unreadable } = collectInputs([tree]);
    expect(files).toEqual([join(tree, 'inner', 'videos-link', 'a.mp4'), join(tree, 'inner', 'videos-link', 'sub', 'b.mkv')]);
    expect(unreadable).toEqual([
      `${join(tree, 'caf\ufffd.mp4')} (its name is not UTF-8 text: rename it)`,
      `${join(tree, 'dangling.mp4')} (a link to a file that does not exist)`,
      `${join(tree, 'loop-a')} (ELOOP)`,
      `${join(tree, 'loop-b')} (ELOOP)`,
    ]);
    // The CLI says so on stderr and classifies the rest.
    const r = spawnSync(process.execPath, [CLI, 'classify', '--models', models(), '--no-progress', tree], { encoding: 'utf8' });
    expect(r.stderr).toContain(`skipped ${join(tree, 'loop-a')} (ELOOP): it could not be read`);
    expect(lines(r.stdout).map((x) => basename(x.file))).toEqual(['a.mp4', 'b.mkv']);
    expect(r.status).toBe(0);
  });

  it('vidkind check scores the models on labelled videos end to end: the same verdicts as classify, failures listed, not scored', () => {
    const labels = join(dir, 'check-labels.csv');
    writeFileSync(
      labels,
      'path,class,subclass,source\nvideos/a.mp4,gaming,,toy-a\nvideos/sub/b.mkv,flat,slides,toy-b\nbroken.mp4,flat,,toy-b\n',
    );
    const out = join(dir, 'check.json');
    const r = spawnSync(process.execPath, [CLI, 'check', '--labels', labels, '--models', models(), '--out', out, '--no-progress'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(1); // the broken file could not be read
    const verdicts = lines(classify([join(videos(), 'a.mp4'), join(videos(), 'sub', 'b.mkv')]).stdout) as SuccessResult[];
    const report = JSON.parse(readFileSync(out, 'utf8')) as CheckReport;
    expect(report.files.map((f) => [f.path, f.class, f.predicted])).toEqual([
      ['videos/a.mp4', 'gaming', verdicts[0]!.label],
      ['videos/sub/b.mkv', 'flat', verdicts[1]!.label],
      ['broken.mp4', 'flat', null],
    ]);
    expect(report.files[2]!.error?.code).toBe('corrupt-file');
    expect(report.metrics.clips).toBe(2);
    const right = verdicts.filter((x, i) => x.label === ['gaming', 'flat'][i]).length;
    expect(report.metrics.accuracy).toBe(right / 2);
    expect(r.stdout).toContain(
      `2 of 3 labelled videos classified (1 could not be read): right on ${Math.round((100 * right) / 2)}% of them`,
    );
    expect(r.stdout).toContain('| broken.mp4 | toy-b | Flat content | could not be read: corrupt-file | – |');
    // Usage errors: a label outside the taxonomy, a missing labels file.
    writeFileSync(labels, 'path,class,subclass,source\nvideos/a.mp4,cartoon,,toy-a\n');
    const bad = spawnSync(process.execPath, [CLI, 'check', '--labels', labels, '--models', models()], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('class "cartoon" is not one of');
    expect(spawnSync(process.execPath, [CLI, 'check', '--labels', join(dir, 'none.csv'), '--models', models()]).status).toBe(2);
  });
});
