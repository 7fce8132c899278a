/**
 * `npm run bench`: end-to-end speed and memory of vidkind, side by side with the original PyTorch
 * stack (the peer), in one invocation on this machine. Writes bench/results.json, bench/RESULTS.md
 * and bench/time-to-verdict.svg. Every figure is measured here; a scenario whose component is
 * missing or fails is recorded as "not measured: <reason>" and the bench carries on.
 *
 *   npm run bench [-- --quick] [-- --repeats 3] [-- --skip-peer]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  appModelsReady,
  appTimeToVerdict,
  bench,
  buildSite,
  launch,
  openApp,
  openBenchPage,
  reopen,
  serve,
  withMemory,
  type ClassifyRun,
} from './browser.ts';
import { ensureMedia, type Clip } from './media.ts';
import type { MemoryPeak } from './memory.ts';
import { peerBackbone, peerE2E, peerTrain, preparePeer, type PeerE2E, type PeerEnv } from './peer.ts';
import { writeReport, type Results, type Scenario, type StageSet } from './report.ts';
import { runChild, stats, tail, type Stats } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
const WORK = join(ROOT, 'bench/work');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    'skip-peer': { type: 'boolean', default: false },
    'skip-browser': { type: 'boolean', default: false },
    // For working on the bench itself: the published results always come from a full run.
    'skip-native': { type: 'boolean', default: false },
    'skip-training': { type: 'boolean', default: false },
    /** Minutes after which long optional work (peer repeats, remaining clips, the batch) is skipped and reported as such. */
    'budget-min': { type: 'string', default: '30' },
    /** Only these clip ids (comma-separated), for working on the bench. */
    clips: { type: 'string' },
    /**
     * Measure nothing: rewrite RESULTS.md from the last run's results.json, taking in a newer
     * bench/gpu-device.jsonl (recorded on a lent GPU machine, see bench/gpu-native.ts).
     */
    'report-only': { type: 'boolean', default: false },
  },
});
if (args['report-only']) {
  const last = JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) as Results;
  last.native.gpuDevice = readGpuDevice();
  last.native.gpu ??= 'not run (bench/gpu-native.ts joined the bench after that run; this machine has no GPU)';
  const peak = typeof last.native.peakGflops === 'number' ? last.native.peakGflops : null;
  const models = (Array.isArray(last.native.models) ? last.native.models : []) as Array<{ kind: string; macs: number | null }>;
  const macs = (kind: string) => models.filter((m) => m.kind === kind).reduce((s, m) => s + (m.macs ?? NaN), 0);
  writeReport(ROOT, last, {
    peakGflops: peak,
    floorMs: {
      backbone: peak && macs('backbone') ? (2 * macs('backbone') * last.framesPerClip) / (peak * 1e6) : null,
      head: peak && macs('head') ? (2 * macs('head')) / (peak * 1e6) : null,
    },
  });
  console.log(`bench/RESULTS.md rewritten from the results of ${last.date} and bench/gpu-device.jsonl; nothing measured.`);
  process.exit(0);
}
const QUICK = args.quick!;
const REPEATS = Number(args.repeats ?? (QUICK ? 1 : 3));
/** The original system's T: frames per clip when no trained head is shipped (test heads are made with it). */
const DEFAULT_FRAMES = 32;
/** The app's default WASM threads on this machine (workers/infer/providers.ts: one core left to the decoder). */
const APP_THREADS = Math.max(1, Math.min(4, cpus().length - 1));
const t0 = performance.now();
const log = (s: string) => console.log(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const BUDGET_MS = Number(args['budget-min']) * 60_000;
/** True once the run has used its time budget: the rest is recorded as "not measured: time budget". */
const overBudget = (share = 1) => performance.now() - t0 > BUDGET_MS * share;
const errMsg = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));

const results: Results = {
  schema: 1,
  date: new Date().toISOString(),
  quick: QUICK,
  appThreads: APP_THREADS,
  repeats: REPEATS,
  // The shipped models' frame count, set once the manifest is read (below).
  framesPerClip: DEFAULT_FRAMES,
  machine: machineInfo(),
  versions: {},
  loadavg: { start: loadavg().map((x) => Math.round(x * 100) / 100) },
  clips: [],
  scenarios: [],
  native: {},
  training: {},
  targets: [],
  notes: [],
};

/** bench/gpu-native.ts's output from a lent GPU machine, committed as bench/gpu-device.jsonl. */
function readGpuDevice(): unknown {
  try {
    return readFileSync(join(ROOT, 'bench/gpu-device.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as unknown);
  } catch {
    return 'none recorded (bench/gpu-device.jsonl)';
  }
}

function machineInfo() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: spawnSync('uname', ['-sr'], { encoding: 'utf8' }).stdout.trim(),
    os: existsSync('/etc/debian_version') ? `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}` : 'unknown',
  };
}

function pkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

// ---------------------------------------------------------------------------------------------
// Media

log('preparing media in bench/work/media (made once, reused)');
const { clips, batch } = ensureMedia(WORK, log);
const selected = args.clips
  ? clips.filter((c) => args.clips!.split(',').includes(c.id))
  : QUICK
    ? clips.filter((c) => c.durationS <= 60)
    : clips;
results.clips = clips.map((c) => ({ ...c, file: c.file.replace(ROOT + '/', ''), bytes: existsSync(c.file) ? fileSize(c.file) : 0 }));
function fileSize(f: string) {
  return Number(spawnSync('stat', ['-c', '%s', f], { encoding: 'utf8' }).stdout.trim());
}
results.versions = {
  vidkind: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  node: process.versions.node,
  'onnxruntime-web': pkgVersion('onnxruntime-web'),
  'onnxruntime-node': pkgVersion('onnxruntime-node'),
  mediabunny: pkgVersion('mediabunny'),
  '@ffmpeg/core': pkgVersion('@ffmpeg/core'),
  vite: pkgVersion('vite'),
  playwright: pkgVersion('playwright-core'),
  ffmpeg: spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.split(' ')[2] ?? '?',
};

// ---------------------------------------------------------------------------------------------
// The peer (PyTorch + OpenCV), first: it needs the whole machine as much as the browser does.

const peerByClip = new Map<string, { best: PeerE2E; all: Record<string, PeerE2E> } | string>();
let peer: PeerEnv | string = 'skipped (--skip-peer)';
if (!args['skip-peer']) peer = preparePeer(ROOT, WORK, log);
if (typeof peer === 'string') {
  log(`peer not run: ${peer}`);
  results.notes.push(`Peer not run: ${peer}`);
} else {
  results.versions = { ...results.versions, ...Object.fromEntries(Object.entries(peer.versions).map(([k, v]) => [`peer ${k}`, v])) };
  results.versions['peer BLAS'] = peer.blas;
  for (const clip of selected) {
    // The peer may use a bit under half the budget: the browser scenarios come after it.
    if (overBudget(0.45)) {
      peerByClip.set(clip.id, `time budget (--budget-min ${args['budget-min']}) used up before this clip`);
      continue;
    }
    // Reading every frame (what the original did) is only affordable on short clips; seeking to each sample is its fast path.
    const modes = clip.durationS <= 60 ? ['seek', 'naive'] : ['seek'];
    const reps = clip.durationS >= 3600 ? 1 : REPEATS;
    log(`peer e2e ${clip.id} (${modes.join('+')}, ${reps} run${reps > 1 ? 's' : ''})`);
    const r = await peerE2E(peer, clip.file, modes, reps);
    if (typeof r === 'string') {
      peerByClip.set(clip.id, r);
      continue;
    }
    const best = Object.values(r).sort((a, b) => (a.total?.median ?? Infinity) - (b.total?.median ?? Infinity))[0]!;
    peerByClip.set(clip.id, { best, all: r });
  }
}

// ---------------------------------------------------------------------------------------------
// Native floors: FLOP rate, model MACs, the same ONNX files in onnxruntime-node, native ffmpeg decode.

const tsx = (script: string, ...a: string[]) => runChild('node', ['--import', 'tsx', script, ...a], { timeoutMs: 10 * 60_000 });

const SKIP_NATIVE = args['skip-native']!;
if (SKIP_NATIVE) results.notes.push('Native floors skipped (--skip-native).');
log('FLOP rate (1024x1024 MatMul in onnxruntime-node)');
const flops = SKIP_NATIVE ? { lines: [], stderr: 'skipped' } : await tsx('bench/native.ts', 'flops');
const flopRows = flops.lines.filter((l) => l.kind === 'flop-rate') as Array<{ threads: number; gflops: Stats }>;
results.native.flopRate = flopRows.length ? flopRows : `not measured: ${tail(flops.stderr)}`;
/** Best rate seen (max over runs and thread counts): the floor is a lower bound, so take the fastest the CPU managed. */
const peakGflops = flopRows.length ? Math.max(...flopRows.map((r) => r.gflops.max)) : null;

interface ManifestLike {
  backbones: Array<{ id: string; file: string }>;
  heads: Array<{ id: string; file: string; backbone: string; frames?: number }>;
  ensembles: Array<{ id: string; members: string[] }>;
  defaultEnsemble?: string;
}
let manifest: ManifestLike | null = null;
try {
  manifest = JSON.parse(readFileSync('public/models/manifest.json', 'utf8')) as ManifestLike;
} catch (e) {
  results.notes.push(`public/models/manifest.json unreadable: ${errMsg(e)}`);
}
let modelsDir = join(ROOT, 'public/models');
let testHeads = false;
if (!manifest?.ensembles.length) {
  // No trained head shipped yet: the shipped backbone with a head exported by node-trainer's own
  // exporter from seeded, untrained weights (tests/e2e/infer-models.ts): the real graphs, so the
  // speed and memory figures hold; the labels mean nothing.
  try {
    const { writeTestModels } = (await import(String('../tests/e2e/infer-models.ts'))) as {
      writeTestModels(dir: string, o: { frames?: number }): { realBackbone: boolean };
    };
    const dir = join(WORK, 'bench-models');
    const set = writeTestModels(dir, { frames: DEFAULT_FRAMES });
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestLike;
    modelsDir = dir;
    testHeads = true;
    results.notes.push(
      `public/models/manifest.json has no ensemble (no trained head shipped): vidkind ran ${set.realBackbone ? 'the shipped backbone' : 'a generated backbone'} ` +
        "with a head exported by node-trainer's exporter from untrained seeded weights (tests/e2e/infer-models.ts): the real graph, so times and memory hold; labels do not.",
    );
  } catch (e) {
    results.notes.push(`No ensemble in the manifest and no test head could be made: ${errMsg(e)}`);
  }
}
results.browserModels = testHeads
  ? 'shipped backbone + untrained head with the real graph (no trained head shipped)'
  : 'shipped manifest (default ensemble)';
const ensemble = manifest?.ensembles.find((e) => e.id === manifest!.defaultEnsemble) ?? manifest?.ensembles[0];
const ensembleHeads = ensemble ? manifest!.heads.filter((h) => ensemble.members.includes(h.id)) : [];
const ensembleBackbones = ensemble ? manifest!.backbones.filter((b) => ensembleHeads.some((h) => h.backbone === b.id)) : [];
/** Frames per video that the app samples with these models (its 'auto' setting): the bench classifies as the app does. */
const FRAMES = ensembleHeads.find((h) => h.id === ensemble?.members[0])?.frames ?? DEFAULT_FRAMES;
results.framesPerClip = FRAMES;
const modelPath = (f: string) => join(modelsDir, f);

type NativeModel = {
  id: string;
  kind: 'backbone' | 'head';
  macs: number | null;
  ortNode: Record<number, Stats | null>;
  sessionCreateMs?: number;
  error?: string;
};
const nativeModels: NativeModel[] = [];
for (const [kind, list] of [
  ['backbone', SKIP_NATIVE ? [] : ensembleBackbones],
  ['head', SKIP_NATIVE ? [] : ensembleHeads],
] as const) {
  for (const m of list) {
    log(`onnxruntime-node: ${kind} ${m.id}`);
    const nm: NativeModel = { id: m.id, kind, macs: null, ortNode: {} };
    const macs = await tsx('bench/native.ts', 'macs', modelPath(m.file), String(FRAMES));
    const ml = macs.lines.find((l) => l.kind === 'macs');
    if (ml) nm.macs = Number(ml.macs);
    else nm.error = `MAC count failed: ${tail(macs.stderr || macs.stdout)}`;
    for (const threads of [1, 2]) {
      const t = await tsx('bench/native.ts', 'time', modelPath(m.file), String(threads), '1', String(FRAMES), '20');
      const tl = t.lines.find((l) => l.kind === 'ort-node') as { msPerItem: Stats; sessionCreateMs: number } | undefined;
      nm.ortNode[threads] = tl?.msPerItem ?? null;
      if (tl) nm.sessionCreateMs = tl.sessionCreateMs;
      else nm.error = `ort-node timing failed: ${tail(t.stderr || t.stdout)}`;
    }
    nativeModels.push(nm);
  }
}
results.native.models = nativeModels;
results.native.peakGflops = peakGflops;
const backboneMacs = nativeModels.filter((m) => m.kind === 'backbone').reduce((s, m) => s + (m.macs ?? NaN), 0);
const headMacs = nativeModels.filter((m) => m.kind === 'head').reduce((s, m) => s + (m.macs ?? NaN), 0);
/** Floors in ms for one clip of FRAMES frames: FLOPs / best measured FLOP rate. */
const floorMs = {
  backbone: peakGflops && backboneMacs ? (2 * backboneMacs * FRAMES) / (peakGflops * 1e6) : null,
  head: peakGflops && headMacs ? (2 * headMacs) / (peakGflops * 1e6) : null,
};

// The WebGPU provider natively (bench/gpu-native.ts): onnxruntime-node bundles the provider that
// onnxruntime-web's WebGPU build runs, so its kernels can be timed on a real GPU without a browser.
// Timed only where Dawn finds a real (not software) adapter; bench/gpu-device.jsonl holds the same
// script's output from a lent GPU machine, shown with its own date.
log('WebGPU provider in onnxruntime-node (real GPU adapters only)');
/** FRAMES frames of the 10 s clip at 400x224, raw RGBA: the frame file bench/gpu-native.ts reads. */
function gpuFrames(): string {
  const clip = clips.find((c) => c.id === 'h264-720p-10s');
  if (!clip) throw new Error('no 10 s clip');
  const out = join(WORK, `gpu-frames-${FRAMES}.rgba`);
  if (!existsSync(out)) {
    const vf = `fps=${FRAMES}/${clip.durationS},scale=400:224`;
    const r = spawnSync('ffmpeg', [
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-i',
      clip.file,
      '-vf',
      vf,
      '-frames:v',
      String(FRAMES),
      '-pix_fmt',
      'rgba',
      '-f',
      'rawvideo',
      out,
    ]);
    if (r.status !== 0) throw new Error(`ffmpeg: ${String(r.stderr).trim()}`);
  }
  return out;
}
async function gpuNative(): Promise<unknown> {
  try {
    const g = await tsx(
      'bench/gpu-native.ts',
      '--frames',
      gpuFrames(),
      '--width',
      '400',
      '--height',
      '224',
      '--models',
      modelsDir,
      '--sweep',
      '16,128',
    );
    const adapter = g.lines.find((l) => l.kind === 'adapter') as { available: boolean; name: string | null } | undefined;
    if (!adapter) return `not measured: ${tail(g.stderr || g.stdout)}`;
    if (!adapter.available)
      return `not measured: ${adapter.name ? `only a software adapter (${adapter.name})` : 'no WebGPU adapter (no GPU)'}`;
    return g.lines;
  } catch (e) {
    return `not measured: ${errMsg(e)}`;
  }
}
results.native.gpu = SKIP_NATIVE ? 'skipped (--skip-native)' : await gpuNative();
results.native.gpuDevice = readGpuDevice();

/** Native ffmpeg seeking to each planned timestamp and decoding one frame: the decode stage's floor. */
// The same sampling plan as the app (src/core/sampling.ts), imported at run time: the core project's
// declaration outputs are not visible to this project through tsc's project references.
const { samplePlan } = (await import(String('../src/core/sampling.ts'))) as {
  samplePlan(durationS: number, o: { frames: number; frameRate: number }): { unique: number[] };
};
/** Native ffmpeg seeking to each planned timestamp and decoding one frame there (one process, one input per frame): the decode stage's floor. */
async function nativeDecodeMs(clip: Clip): Promise<number> {
  const plan = samplePlan(clip.durationS, { frames: FRAMES, frameRate: 30 });
  const inputs = plan.unique.flatMap((ts) => ['-ss', String(ts), '-i', clip.file]);
  const outputs = plan.unique.flatMap((_, i) => ['-map', `${i}:v:0`, '-frames:v', '1', '-f', 'null', '-']);
  const t = performance.now();
  const r = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-threads', '2', ...inputs, ...outputs]);
  if (r.status !== 0) throw new Error(`ffmpeg exited ${r.status}: ${r.stderr.toString().slice(-300)}`);
  return performance.now() - t;
}
const decodeFloor = new Map<string, Stats | null>();
for (const clip of SKIP_NATIVE ? [] : selected) {
  log(`native ffmpeg decode floor: ${clip.id}`);
  const reps = clip.durationS === 60 ? REPEATS : 1;
  const v: number[] = [];
  try {
    for (let i = 0; i < reps; i++) v.push(await nativeDecodeMs(clip));
  } catch (e) {
    results.notes.push(`Decode floor for ${clip.id} not measured: ${errMsg(e)}`);
  }
  decodeFloor.set(clip.id, stats(v));
}

// ---------------------------------------------------------------------------------------------
// vidkind in Chromium

const scenarios: Scenario[] = [];
results.scenarios = scenarios;
// Ctrl-C (or a kill) still leaves the figures measured so far, marked as an interrupted run.
const onSignal = (sig: string) => {
  results.notes.push(`Run interrupted (${sig}) after ${Math.round((performance.now() - t0) / 1000)} s: later scenarios are missing.`);
  results.durationS = Math.round((performance.now() - t0) / 1000);
  results.loadavg.end = loadavg().map((x) => Math.round(x * 100) / 100);
  writeReport(ROOT, results, { floorMs, peakGflops });
  process.exit(130);
};
process.once('SIGINT', () => onSignal('SIGINT'));
process.once('SIGTERM', () => onSignal('SIGTERM'));
const clip60 = clips.find((c) => c.id === 'h264-720p-60s')!;
const notMeasured = (id: string, title: string, group: Scenario['group'], reason: string, clip?: Clip): Scenario => ({
  id,
  title,
  group,
  clip: clip?.id,
  durationS: clip?.durationS,
  notMeasured: reason,
});

function stageSet(runs: ClassifyRun[], memory: MemoryPeak | null): StageSet {
  const ok = runs.filter((r) => r.ok && r.timingsMs);
  return {
    runs: ok.length,
    failed: runs.length - ok.length,
    wall: stats(ok.map((r) => r.wallMs)),
    decode: stats(ok.map((r) => r.timingsMs!.decode)),
    backbone: stats(ok.map((r) => r.timingsMs!.backbone)),
    head: stats(ok.map((r) => r.timingsMs!.head)),
    total: stats(ok.map((r) => r.timingsMs!.total)),
    backboneMsPerFrame: stats(ok.map((r) => r.timingsMs!.backbone / Math.max(1, r.work?.backboneFrames ?? 0))),
    backboneMsPerRun: Object.fromEntries(
      [...new Set(ok.flatMap((r) => Object.keys(r.work?.backbones ?? {})))].map((id) => [
        id,
        stats(ok.flatMap((r) => (r.work?.backbones?.[id] ? [r.work.backbones[id].ms / Math.max(1, r.work.backbones[id].runs)] : []))),
      ]),
    ),
    peakPssMiB: memory?.peakPssMiB ?? null,
    peakRssMiB: memory?.peakRssMiB ?? null,
    peakJsHeapMiB: ok.length ? Math.max(...ok.map((r) => (r.jsHeapUsedBytes ?? 0) / 2 ** 20)) : null,
    decoder: ok[0]?.decoder,
    provider: ok[0]?.provider,
    label: ok[0]?.label,
    errors: [...new Set(runs.filter((r) => !r.ok).map((r) => `${r.error?.code}: ${r.error?.message}`))],
  };
}

function withPeer(s: Scenario, clip: Clip): Scenario {
  const p = peerByClip.get(clip.id);
  if (!p) return { ...s, peerNotMeasured: typeof peer === 'string' ? peer : 'not run for this clip' };
  if (typeof p === 'string') return { ...s, peerNotMeasured: p };
  const b = p.best;
  return {
    ...s,
    peer: {
      mode: b.mode,
      decode: b.decode,
      preprocess: b.preprocess,
      backbone: b.backbone,
      head: b.head,
      total: b.total,
      peakPssMiB: b.memory.peakPssMiB,
      peakRssMiB: b.memory.peakRssMiB,
      modes: Object.fromEntries(Object.entries(p.all).map(([m, v]) => [m, v.total])),
    },
  };
}

function withFloor(s: Scenario, clip: Clip): Scenario {
  const dec = decodeFloor.get(clip.id)?.median ?? null;
  return {
    ...s,
    floor: {
      decode: dec,
      backbone: floorMs.backbone,
      head: floorMs.head,
      total: dec !== null && floorMs.backbone !== null && floorMs.head !== null ? dec + floorMs.backbone + floorMs.head : null,
    },
  };
}

// Peak memory for a file over 2 GiB: scripts/make-big-file.ts writes a sparse 2.3 GiB MP4 around a 4 s 320x240 clip (seconds, ~150 KB of disk).
const bigFile = join(WORK, 'media/big/big-h264.mp4');
const wantBig = !args.clips || args.clips.split(',').includes('big-2.3gib');
if (wantBig && !existsSync(bigFile))
  spawnSync('node', ['--import', 'tsx', 'scripts/make-big-file.ts', dirname(bigFile)], { cwd: ROOT, stdio: 'inherit' });
const pickFiles = [...clips, ...batch].filter((c) => existsSync(c.file)).map((c) => c.file);
if (wantBig && existsSync(bigFile)) pickFiles.push(bigFile);
let repeatId = 0;
/** Classifies a clip `n` times under fresh names (feature-cache misses, like new uploads). */
async function classifyRuns(page: import('playwright-core').Page, clip: Clip, n: number): Promise<ClassifyRun[]> {
  const out: ClassifyRun[] = [];
  for (let i = 0; i < n; i++) out.push(await bench.classify(page, basename(clip.file), `run${++repeatId}-${basename(clip.file)}`));
  return out;
}

if (args['skip-browser']) {
  results.notes.push('Browser scenarios skipped (--skip-browser).');
} else {
  // One retry: other work on this checkout can leave the tree briefly unbuildable.
  let buildError = buildSite(log);
  if (buildError) {
    log(`${buildError}; retrying in 20 s`);
    await new Promise((r) => setTimeout(r, 20_000));
    buildError = buildSite(log);
  }
  if (buildError) {
    results.notes.push(buildError);
    scenarios.push(notMeasured('browser', 'All browser scenarios', 'clips', buildError));
  } else {
    if (testHeads) {
      // The built site (bench/work/dist only, never public/) gets the test models, so the app and
      // the bench page run them exactly as they would run a shipped ensemble.
      cpSync(modelsDir, join(WORK, 'dist/models'), { recursive: true });
    }
    const server = await serve();
    const browser = await launch();
    results.versions.chromium = browser.version();
    try {
      // --- first visit (cold) vs return visit vs warm, 60 s clip, WASM with the app's default threads
      log('cold / return visit / warm on the 60 s clip');
      const coldRuns: ClassifyRun[] = [];
      const revisitRuns: ClassifyRun[] = [];
      const pageLoads: number[] = [];
      let coldMem: MemoryPeak | null = null;
      let caps: unknown = null;
      for (let i = 0; i < REPEATS; i++) {
        const { value, memory } = await withMemory(async () => {
          const { context, page, loadMs } = await openBenchPage(browser, server.url, pickFiles);
          pageLoads.push(loadMs);
          caps ??= await bench.caps(page);
          await bench.setup(page, { threads: APP_THREADS, frames: FRAMES });
          const cold = await bench.classify(page, basename(clip60.file), `cold${i}-${basename(clip60.file)}`);
          const again = await reopen(context, server.url, pickFiles);
          await page.close();
          await bench.setup(again, { threads: APP_THREADS, frames: FRAMES });
          const revisit = await bench.classify(again, basename(clip60.file), `revisit${i}-${basename(clip60.file)}`);
          await context.close();
          return { cold, revisit };
        });
        coldRuns.push(value.cold);
        revisitRuns.push(value.revisit);
        coldMem = !coldMem || memory.peakPssMiB > coldMem.peakPssMiB ? memory : coldMem;
      }
      results.capabilities = caps;
      results.pageLoadMs = stats(pageLoads);
      scenarios.push(
        withPeer(
          {
            id: 'visit-cold',
            title: 'First visit (cold): download models, create sessions, classify 60 s 720p',
            group: 'visit',
            clip: clip60.id,
            durationS: 60,
            vidkind: stageSet(coldRuns, coldMem),
          },
          clip60,
        ),
      );
      scenarios.push(
        withPeer(
          {
            id: 'visit-return',
            title: 'Return visit: models from the Cache API, new sessions, classify 60 s 720p',
            group: 'visit',
            clip: clip60.id,
            durationS: 60,
            vidkind: stageSet(revisitRuns, null),
          },
          clip60,
        ),
      );

      // --- the app itself (index.html), as a person uses it: first visit and warm, 60 s clip
      {
        log('the app: first visit and warm, 60 s clip');
        // Distinct names (symlinks to the same clip): each pick is a new file to the feature cache.
        const linkDir = join(WORK, 'links');
        mkdirSync(linkDir, { recursive: true });
        const link = (i: number) => {
          const f = join(linkDir, `app${i}-${basename(clip60.file)}`);
          if (!existsSync(f)) symlinkSync(clip60.file, f);
          return f;
        };
        const cold: number[] = [];
        const warm: number[] = [];
        const errors: string[] = [];
        // Models ready, nothing picked: what a visitor waits for before the status says so.
        const readyMs: number[] = [];
        for (let i = 0; i < REPEATS; i++) {
          const ctx = await browser.newContext();
          const t = performance.now();
          const { page } = await openApp(ctx, server.url);
          if ((await appModelsReady(page)) === true) readyMs.push(performance.now() - t);
          await ctx.close();
        }
        results.appModelsReadyMs = readyMs.length ? stats(readyMs) : null;
        const { memory } = await withMemory(async () => {
          for (let i = 0; i < REPEATS; i++) {
            const ctx = await browser.newContext();
            const { page, loadMs } = await openApp(ctx, server.url);
            // First visit: the file is picked as soon as the page is up, while the app fetches its models.
            const c = await appTimeToVerdict(page, link(i), 1);
            if (typeof c === 'number') cold.push(loadMs + c);
            else errors.push(c);
            if (i === REPEATS - 1 && typeof c === 'number') {
              // Warm means set up: the service worker, which the app registers once its models are
              // loaded and its queue is idle (src/app/stores/offline.svelte.ts), has stored the build.
              await page.getByTestId('offline-ready').waitFor({ timeout: 180_000 });
              for (let k = 0; k < REPEATS; k++) {
                const w = await appTimeToVerdict(page, link(REPEATS + k), k + 2);
                if (typeof w === 'number') warm.push(w);
                else errors.push(w);
              }
            }
            await ctx.close();
          }
        });
        const appSet = (v: number[], mem: MemoryPeak | null): StageSet => ({
          ...stageSet([], mem),
          runs: v.length,
          failed: errors.length,
          wall: stats(v),
          errors: [...new Set(errors)],
        });
        scenarios.push(
          withPeer(
            {
              id: 'app-cold',
              title: 'The app: first visit (page load, models downloaded, sessions created), pick a 60 s 720p file, verdict shown',
              group: 'app',
              clip: clip60.id,
              durationS: 60,
              vidkind: appSet(cold, memory),
              notMeasured: cold.length ? undefined : errors[0],
            },
            clip60,
          ),
        );
        scenarios.push(
          withPeer(
            {
              id: 'app-warm',
              title: 'The app: warm (models loaded, offline copy stored), pick a 60 s 720p file, verdict shown',
              group: 'app',
              clip: clip60.id,
              durationS: 60,
              vidkind: appSet(warm, null),
              notMeasured: warm.length ? undefined : errors[0],
            },
            clip60,
          ),
        );
      }

      // --- warm, every clip, WASM with the app's default threads (one page, models loaded once)
      const { context, page } = await openBenchPage(browser, server.url, pickFiles);
      await bench.setup(page, { threads: APP_THREADS, frames: FRAMES });
      const init = await bench.init(page);
      results.device2Threads = init.device ?? init.error;
      if (init.error) {
        for (const clip of selected)
          scenarios.push(
            withPeer(
              notMeasured(`warm-${clip.id}`, `Warm, ${clip.id}`, 'clips', `the pipeline could not load its models: ${init.error}`, clip),
              clip,
            ),
          );
      } else {
        // One unmeasured classification first: the workers' first frames pay for WebAssembly tier-up,
        // the decoder's set-up and the first allocations, which a warm page has already paid.
        log('warm-up classification (not measured)');
        await classifyRuns(page, clips[0]!, 1);
        for (const clip of selected) {
          if (overBudget()) {
            scenarios.push(
              withPeer(
                notMeasured(
                  `warm-${clip.id}`,
                  `Warm, ${clip.id}`,
                  'clips',
                  `time budget (--budget-min ${args['budget-min']}) used up`,
                  clip,
                ),
                clip,
              ),
            );
            continue;
          }
          const reps = clip.durationS >= 3600 ? 1 : REPEATS;
          log(`warm ${clip.id} x${reps}`);
          // One unmeasured run first so the clip's own first-use costs (e.g. loading ffmpeg.wasm) are reported apart.
          const first = clip.codec === 'mpeg4' ? await classifyRuns(page, clip, 1) : [];
          const { value, memory } = await withMemory(() => classifyRuns(page, clip, reps));
          const s: Scenario = {
            id: `warm-${clip.id}`,
            title: `Warm, ${clip.width}x${clip.height} ${clip.codec} ${clip.durationS >= 3600 ? `${clip.durationS / 3600} h` : clip.durationS >= 60 ? `${clip.durationS / 60} min` : `${clip.durationS} s`}`,
            group: 'clips',
            clip: clip.id,
            durationS: clip.durationS,
            vidkind: stageSet(value, memory),
          };
          if (first[0]) s.firstUseMs = first[0].ok ? first[0].wallMs : null;
          scenarios.push(withFloor(withPeer(s, clip), clip));
        }
        if (wantBig && existsSync(bigFile)) {
          log('warm, a 2.3 GiB file (peak memory)');
          const { value, memory } = await withMemory(async () => [await bench.classify(page, basename(bigFile), `big${++repeatId}.mp4`)]);
          const title = 'Warm, 320x240 h264 4 s in a 2.3 GiB MP4 (media data past 2^31)';
          scenarios.push({
            id: 'big-2.3gib',
            title,
            group: 'clips',
            durationS: 4,
            vidkind: stageSet(value, memory),
            peerNotMeasured: 'not run on this file',
          });
        }

        // --- each backbone alone in the app's infer worker (session.run on a fixed input, batch 1),
        // 1 and 2 threads: the in-browser overhead against onnxruntime-node's same figure.
        log('browser backbones alone (infer worker, batch 1, 1 and 2 threads)');
        results.browserBackbones = {};
        for (const threads of [1, 2]) {
          try {
            const r = await page.evaluate(([t, n]) => window.vidkindBench.pieces.inferBackbones(t, n, 3), [
              threads,
              QUICK ? 3 : 10,
            ] as const);
            results.browserBackbones[threads] = Object.fromEntries(Object.entries(r.times).map(([id, t]) => [id, stats(t)]));
          } catch (e) {
            results.notes.push(`Browser backbones alone (${threads} thread${threads > 1 ? 's' : ''}) not measured: ${errMsg(e)}`);
          }
        }
        await page.evaluate(() => window.vidkindBench.pieces.disposeInferClients());

        // --- batch of 20 clips (throughput), warm
        if (overBudget()) throw new Error(`time budget (--budget-min ${args['budget-min']}) used up before the batch`);
        log('batch of 20 clips');
        const tb = performance.now();
        const { value: batchRuns, memory: batchMem } = await withMemory(async () => {
          const out: ClassifyRun[] = [];
          for (const c of batch) out.push(...(await classifyRuns(page, c, 1)));
          return out;
        });
        const batchWallMs = performance.now() - tb;
        const okCount = batchRuns.filter((r) => r.ok).length;
        scenarios.push({
          id: 'batch-20',
          title: 'Batch of 20 different 10 s 720p clips, one after another (warm)',
          group: 'batch',
          durationS: 10,
          vidkind: stageSet(batchRuns, batchMem),
          throughput:
            okCount === batch.length
              ? { clipsPerMinute: (okCount / batchWallMs) * 60_000, wallMs: batchWallMs, clips: okCount }
              : undefined,
          notMeasured:
            okCount === batch.length
              ? undefined
              : `${batch.length - okCount} of ${batch.length} clips failed: ${stageSet(batchRuns, null).errors.join('; ')}`,
        });
      }
      await context.close();

      // --- the other thread count (1 or 2) on the 60 s clip
      const other = APP_THREADS === 1 ? 2 : 1;
      const otherTitle = `WASM, ${other} thread${other > 1 ? 's' : ''}, 60 s 720p`;
      log(`${otherTitle}`);
      {
        const { context: c1, page: p1 } = await openBenchPage(browser, server.url, pickFiles);
        await bench.setup(p1, { threads: other, frames: FRAMES });
        const i1 = await bench.init(p1);
        if (i1.error) scenarios.push(notMeasured(`threads-${other}`, otherTitle, 'threads', i1.error, clip60));
        else {
          const { value, memory } = await withMemory(() => classifyRuns(p1, clip60, REPEATS));
          scenarios.push(
            withPeer(
              {
                id: `threads-${other}`,
                title: `${otherTitle} (warm)`,
                group: 'threads',
                clip: clip60.id,
                durationS: 60,
                vidkind: stageSet(value, memory),
              },
              clip60,
            ),
          );
        }
        await c1.close();
      }

      // --- WebGPU, only on a real adapter
      const gpu = (caps as { webgpu?: { available: boolean; fallback: boolean; adapter: string | null } } | null)?.webgpu;
      if (!gpu?.available)
        scenarios.push(notMeasured('webgpu', 'WebGPU, 60 s 720p', 'backend', 'no WebGPU adapter in this browser', clip60));
      else if (gpu.fallback)
        scenarios.push(
          notMeasured(
            'webgpu',
            'WebGPU, 60 s 720p',
            'backend',
            `only a fallback adapter (${gpu.adapter}: SwiftShader, WebGPU emulated on the CPU), not a real GPU; vidkind's 'auto' backend uses WASM here`,
            clip60,
          ),
        );
      else {
        log(`WebGPU on ${gpu.adapter}`);
        const { context: cg, page: pg } = await openBenchPage(browser, server.url, pickFiles);
        await bench.setup(pg, { backend: 'webgpu', frames: FRAMES });
        const ig = await bench.init(pg);
        if (ig.error) scenarios.push(notMeasured('webgpu', 'WebGPU, 60 s 720p', 'backend', ig.error, clip60));
        else {
          const { value, memory } = await withMemory(() => classifyRuns(pg, clip60, REPEATS));
          scenarios.push(
            withPeer(
              {
                id: 'webgpu',
                title: `WebGPU (${gpu.adapter}), 60 s 720p (warm)`,
                group: 'backend',
                clip: clip60.id,
                durationS: 60,
                vidkind: stageSet(value, memory),
              },
              clip60,
            ),
          );
        }
        await cg.close();
      }
    } catch (e) {
      log(`browser scenarios stopped: ${errMsg(e)}`);
      results.notes.push(`Browser scenarios stopped early: ${errMsg(e)}`);
    } finally {
      await browser.close().catch(() => undefined);
      server.stop();
    }
  }
}
// Every clip gets its row, with the peer's figures and the floors, even when the browser did not reach it.
for (const clip of selected) {
  if (!scenarios.some((x) => x.id === `warm-${clip.id}`))
    scenarios.push(
      withFloor(
        withPeer(
          notMeasured(
            `warm-${clip.id}`,
            `Warm, ${clip.id}`,
            'clips',
            'the browser scenarios did not reach this clip (see the notes)',
            clip,
          ),
          clip,
        ),
        clip,
      ),
    );
}
results.scenarios = scenarios;

// ---------------------------------------------------------------------------------------------
// node-trainer: training s/epoch and extraction frames/s, against the peer

const SKIP_TRAINING = args['skip-training']!;
if (SKIP_TRAINING) results.notes.push('node-trainer benches skipped (--skip-training).');
log('node-trainer training step');
const BIG = { projDim: 512, lstmHidden: 256, lstmLayers: 4 };
const trainScript = 'node-trainer/bench/train.ts';
async function nodeTrain(config: Record<string, number>) {
  if (SKIP_TRAINING) return 'skipped (--skip-training)';
  if (!existsSync(trainScript)) return `${trainScript} not found`;
  const r = await runChild('node', ['--import', 'tsx', trainScript, '--steps', QUICK ? '2' : '5', '--config', JSON.stringify(config)], {
    timeoutMs: 15 * 60_000,
  });
  const step = r.lines.find((l) => l.bench === 'train-step');
  const epoch = r.lines.find((l) => l.bench === 'train-epoch');
  if (!step || !epoch) return `train.ts produced no result (exit ${r.code}): ${tail(r.stderr)}`;
  return { step, epoch, peakPssMiB: r.memory.peakPssMiB };
}
results.training.vidkindSameArchitecture = await nodeTrain(BIG);
results.training.vidkindDefault = await nodeTrain({});
if (typeof peer !== 'string' && !SKIP_TRAINING) {
  log('peer training step');
  results.training.peer = await peerTrain(peer, 'big', QUICK ? 3 : 5);
  log('peer backbone');
  results.native.peerBackbone = await peerBackbone(peer);
} else results.training.peer = typeof peer === 'string' ? peer : 'skipped (--skip-training)';

log('node-trainer extraction');
const extractScript = 'node-trainer/bench/extract.ts';
if (SKIP_TRAINING) results.training.extract = 'not measured: skipped (--skip-training)';
else if (!existsSync(extractScript)) results.training.extract = `not measured: ${extractScript} not found`;
else {
  const backbone = ensembleBackbones[0]?.id ?? 'mobilenet-v2-1.0-taps';
  const r = await runChild(
    'node',
    [
      '--import',
      'tsx',
      extractScript,
      '--videos',
      [clip60.file, clips[0]!.file].join(','),
      '--backbone',
      backbone,
      '--repeat',
      String(QUICK ? 1 : 2),
    ],
    { timeoutMs: 15 * 60_000 },
  );
  results.training.extract = r.lines.length
    ? { lines: r.lines, peakPssMiB: r.memory.peakPssMiB }
    : `not measured: extract.ts produced no result (exit ${r.code}): ${tail(r.stderr)}`;
}

results.loadavg.end = loadavg().map((x) => Math.round(x * 100) / 100);
results.durationS = Math.round((performance.now() - t0) / 1000);
writeReport(ROOT, results, { floorMs, peakGflops });
log(`done in ${results.durationS} s: bench/results.json, bench/RESULTS.md, bench/time-to-verdict.svg`);
