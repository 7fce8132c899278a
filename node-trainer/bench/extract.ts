/**
 * Extraction speed of `vidkind extract`: ffmpeg decode (both strategies), core preprocessing,
 * backbone batches in onnxruntime-node, and end to end (frames/s), against the peer's PyTorch
 * backbone (70-80 ms/frame; the target is >= 3x its frames/s). Prints one JSON line per measurement.
 *   node --import tsx node-trainer/bench/extract.ts [--videos a.mp4,b.mp4] [--backbone mobilenet-v2-1.0]
 *        [--models public/models] [--frames 32] [--batch 16] [--threads 0] [--repeat 2]
 * Without --videos, a 60 s 720p and a 10 s 360p clip are generated with ffmpeg's lavfi.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { frameToTensor, frameTensorSize } from '../../src/core/preprocess.ts';
import { samplePlan } from '../../src/core/sampling.ts';
import { inputSpecOf, openBackbone } from '../src/backbone-runtime/session.ts';
import { chooseStrategy, decodeFrames } from '../src/decode/frames.ts';
import { probeVideo } from '../src/decode/probe.ts';
import { extractFeatures } from '../src/extract/extract-features.ts';
import type { LabelRow } from '../src/extract/labels.ts';
import { readManifestFile } from '../src/manifest-file.ts';

const { values: a } = parseArgs({
  options: {
    videos: { type: 'string' },
    backbone: { type: 'string', default: 'mobilenet-v2-1.0' },
    models: { type: 'string', default: 'public/models' },
    frames: { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
    threads: { type: 'string', default: '0' },
    repeat: { type: 'string', default: '2' },
  },
});
const PEER_MS_PER_FRAME = 75; // PyTorch backbone of the original system, 70-80 ms/frame
const frames = Number(a.frames);
const threads = Number(a.threads);
const out = (o: Record<string, unknown>) => console.log(JSON.stringify({ ...o, loadavg: loadavg()[0]!.toFixed(2), cores: cpus().length }));
/**
 * CPU seconds used so far by this process and its waited-for children (the ffmpeg decoders), from
 * /proc/self/stat: on a shared, loaded machine CPU time says more about cost than wall time does.
 */
function cpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are at 11..14 after the command name.
    return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0) / 100;
  } catch {
    return null;
  }
}
const work = mkdtempSync(join(tmpdir(), 'vidkind-bench-extract-'));

try {
  let videos = a.videos
    ?.split(',')
    .filter(Boolean)
    .map((v) => resolve(v));
  if (!videos?.length) {
    const gen = (name: string, src: string, s: number) => {
      const f = join(work, name);
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        src,
        '-t',
        String(s),
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-g',
        '50',
        '-pix_fmt',
        'yuv420p',
        f,
      ]);
      return f;
    };
    videos = [gen('720p-60s.mp4', 'testsrc2=size=1280x720:rate=25', 60), gen('360p-10s.mp4', 'mandelbrot=size=640x360:rate=25', 10)];
  }
  const modelsDir = resolve(a.models!);
  const manifest = readManifestFile(modelsDir);
  const entry = manifest.backbones.find((b) => b.id === a.backbone);
  if (!entry) throw new Error(`no backbone ${a.backbone} in ${modelsDir}/manifest.json`);

  // Decode: both strategies on every video (the same plan).
  let sample = null as null | Awaited<ReturnType<typeof decodeFrames>>;
  for (const v of videos) {
    const info = await probeVideo(v);
    const plan = samplePlan(info.durationS, { frames, frameRate: info.frameRate, frameCount: info.frameCount });
    for (const strategy of ['pass', 'seek'] as const) {
      const t0 = performance.now();
      const f = await decodeFrames(v, info, plan.unique, { strategy, timeoutMs: 600_000 });
      const ms = performance.now() - t0;
      sample ??= f;
      out({
        bench: 'extract-decode',
        video: basename(v),
        durationS: info.durationS,
        strategy,
        auto: chooseStrategy(info, plan.unique.length),
        frames: f.length,
        ms: Math.round(ms),
        msPerFrame: +(ms / f.length).toFixed(2),
      });
    }
  }

  // Preprocess: core's resize + normalisation, per frame.
  const spec = inputSpecOf(entry);
  const buf = new Float32Array(frameTensorSize(spec));
  const t1 = performance.now();
  for (const f of sample!) frameToTensor(f, spec, {}, buf);
  out({
    bench: 'extract-preprocess',
    from: `${sample![0]!.width}x${sample![0]!.height}`,
    to: `${spec.width}x${spec.height}`,
    msPerFrame: +((performance.now() - t1) / sample!.length).toFixed(2),
  });

  // Backbone: ms/frame by batch size (after one warm-up run).
  for (const batch of [1, 8, Number(a.batch)]) {
    const session = await openBackbone(modelsDir, entry, { batchSize: batch, threads });
    const input = sample!.slice(0, Math.max(batch, Math.min(sample!.length, 32)));
    await session.embed(input.slice(0, batch));
    const t0 = performance.now();
    await session.embed(input);
    const ms = (performance.now() - t0) / input.length;
    out({
      bench: 'extract-backbone',
      backbone: entry.id,
      batch: session.batchSize,
      threads,
      msPerFrame: +ms.toFixed(2),
      framesPerSecond: +(1000 / ms).toFixed(1),
    });
    await session.release();
  }

  // End to end: `vidkind extract` on the videos (each `repeat` times under another name), decode overlapping inference.
  const rows: LabelRow[] = [];
  for (let r = 0; r < Number(a.repeat); r++)
    for (const [i, v] of videos.entries()) {
      const link = join(work, `r${r}-${i}-${basename(v)}`);
      symlinkSync(v, link);
      rows.push({ path: basename(link), file: link, class: 'natural', subclass: '', source: `s${i}` });
    }
  writeFileSync(join(work, 'labels.csv'), 'unused\n');
  const cpu0 = cpuSeconds();
  const s = await extractFeatures({
    rows,
    manifest,
    modelsDir,
    backbone: entry.id,
    out: join(work, 'features'),
    frames,
    batchSize: Number(a.batch),
    threads,
  });
  const cpu = cpu0 === null ? null : cpuSeconds()! - cpu0;
  const peerFps = 1000 / PEER_MS_PER_FRAME;
  out({
    bench: 'extract-end-to-end',
    backbone: entry.id,
    videos: rows.length,
    failed: s.failed,
    frames: s.frames,
    seconds: +s.seconds.toFixed(2),
    framesPerSecond: +s.framesPerSecond.toFixed(1),
    peerFramesPerSecond: +peerFps.toFixed(1),
    targetFramesPerSecond: +(3 * peerFps).toFixed(1),
    speedupVsPeer: +(s.framesPerSecond / peerFps).toFixed(2),
    cpuSeconds: cpu === null ? null : +cpu.toFixed(2),
    cpuMsPerFrame: cpu === null ? null : +((cpu * 1000) / s.frames).toFixed(1),
    /** What the wall-clock rate would be if the CPU time were spread over every core, unshared. */
    framesPerSecondAllCoresFree: cpu === null ? null : +((s.frames / cpu) * cpus().length).toFixed(1),
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
