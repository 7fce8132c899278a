/**
 * Stage probes: each piece of the browser pipeline timed on its own in real headless Chromium,
 * the things compared run back to back, alternating, so that a busy machine slows them alike and
 * the ratios hold even when the absolute times do not.
 *
 *   node --import tsx bench/pieces.ts [--no-build] [--port N] [--rounds R] [--runs N] WHAT...
 *
 * WHAT: `ort` (onnxruntime-web alone in a probe worker, per build/threads/session options, vs
 * onnxruntime-node), `ort-log` (onnxruntime-web's verbose session log: which graph transformers
 * ran), `infer` (the app's infer worker, each shipped backbone alone, vs onnxruntime-node, 1 and 2
 * threads), `decode` (mediabunny + WebCodecs alone vs with draw + getImageData), `skip` (the app's
 * decode worker with and without leaving out disposable H.264 frames), `classify` (the
 * whole classify, 1 vs 2 WASM threads), `lanes` (the whole classify, one inference worker vs two taking frames in turn), `cold` (a first visit's classify of the 60 s clip, fresh browser context each, one worker vs two). Builds into bench/work/dist-pieces (not the bench's dist).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../playwright.config.ts';
import { timeRuns } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'no-build': { type: 'boolean', default: false },
    port: { type: 'string', default: '4391' },
    dist: { type: 'string', default: 'bench/work/dist-pieces' },
    rounds: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    /** Frames per classify in `classify` / `lanes` (the shipped default samples 16). */
    frames: { type: 'string', default: '16' },
  },
});
const DIST = args.dist!;
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);
const FRAMES = Number(args.frames);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) : NaN;
};
/** The shipped backbones, from the site's manifest. */
const BACKBONES = (
  JSON.parse(readFileSync(join(ROOT, 'public/models/manifest.json'), 'utf8')) as { backbones: Array<{ id: string; file: string }> }
).backbones;
const ORT_MODELS = BACKBONES.map((b) => b.file);
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, n=${xs.length})`;

function build() {
  const r = spawnSync('nice', ['-n', '10', 'npx', 'vite', 'build', '--config', 'bench/vite.config.ts', '--logLevel', 'error'], {
    encoding: 'utf8',
    env: { ...process.env, VIDKIND_BENCH_DIST: DIST },
  });
  if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr || r.stdout}`);
}

async function serve(port: number): Promise<ChildProcess> {
  const child = spawn(
    'npx',
    ['vite', 'preview', '--config', 'bench/vite.config.ts', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, VIDKIND_BENCH_DIST: DIST },
    },
  );
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('vite preview did not start');
}

/** onnxruntime-node on the same file, same input, `runs` runs (the in-browser overhead's reference). */
async function ortNodeSession(file: string, threads: number, batch: number, level: 'all' | 'extended' = 'all') {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  });
  const data = new Float32Array(batch * 224 * 224 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [batch, 224, 224, 3]) };
  await session.run(feeds);
  return (runs: number) => timeRuns(() => session.run(feeds), 0, runs);
}

/**
 * Where the ort-web vs ort-node gap comes from. ort-node at level 'all' runs the NchwcTransformer
 * (blocked-layout AVX2/AVX-512 conv kernels, native x86 only); at 'extended' it runs the same
 * NCHW Conv/FusedConv kernels as the WASM build (whose optimised graph has no Pad, Cast, BN, Clip
 * or Add nodes left: all FusedConv). So web/node-extended is the WASM-vs-native kernel factor and
 * node-extended/node-all the NCHWc factor. Also the app's build (onnxruntime-web/webgpu, asyncify
 * wasm) vs the plain WASM build, both 1 thread, ort-web default session options.
 */
async function ortProbe(page: Page) {
  const setups = ORT_MODELS.flatMap((m) =>
    (['webgpu', 'wasm'] as const).map((build) => ({ build, threads: 1, modelUrl: m, batch: 1, optimization: 'all' }) as const),
  );
  const node: Record<string, Record<string, (runs: number) => Promise<number[]>>> = {};
  for (const m of ORT_MODELS) {
    const file = join(ROOT, 'public/models', m);
    node[m] = { all: await ortNodeSession(file, 1, 1, 'all'), extended: await ortNodeSession(file, 1, 1, 'extended') };
  }
  const nodeTimes = Object.fromEntries(ORT_MODELS.map((m) => [m, { all: [] as number[], extended: [] as number[] }]));
  const webTimes: number[][] = setups.map(() => []);
  let info: unknown;
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of ORT_MODELS) {
      nodeTimes[m]!.all.push(...(await node[m]!.all!(RUNS)));
      nodeTimes[m]!.extended.push(...(await node[m]!.extended!(RUNS)));
    }
    const w = await page.evaluate(([s, n]) => window.vidkindBench.pieces.ortRun(s as never, n, 1), [setups, RUNS] as const);
    info ??= w.info;
    w.times.forEach((t, i) => webTimes[i]!.push(...t.map((x) => x / setups[i]!.batch)));
  }
  console.log('browser probe workers:', JSON.stringify(info));
  for (const m of ORT_MODELS) {
    const n = nodeTimes[m]!;
    console.log(`${m} ort-node 1t all     : ${fmt(n.all)}`);
    console.log(`${m} ort-node 1t extended: ${fmt(n.extended)}  ratio to all ${(median(n.extended) / median(n.all)).toFixed(2)}x`);
    setups.forEach((s, i) => {
      if (s.modelUrl !== m) return;
      const w = webTimes[i]!;
      console.log(
        `${m} ort-web ${s.build} 1t: ${fmt(w)}  ratio to node all ${(median(w) / median(n.all)).toFixed(2)}x, to node extended ${(median(w) / median(n.extended)).toFixed(2)}x`,
      );
    });
  }
}

async function ortLog(page: Page) {
  const setups = [{ build: 'wasm', threads: 1, modelUrl: ORT_MODELS[0]!, batch: 1, optimization: 'all', verbose: true, profile: true }];
  const w = await page.evaluate(([s, n]) => window.vidkindBench.pieces.ortRun(s as never, n, 1), [setups, 3] as const);
  console.log(JSON.stringify(w));
}

/** The app's infer worker (timeBackbone: session.run alone) vs onnxruntime-node, same files, same threads, alternating. */
async function inferProbe(page: Page) {
  for (const threads of [2, 1]) {
    const node: Record<string, (runs: number) => Promise<number[]>> = {};
    for (const b of BACKBONES) node[b.id] = await ortNodeSession(join(ROOT, 'public/models', b.file), threads, 1);
    const nodeTimes: Record<string, number[]> = Object.fromEntries(BACKBONES.map((b) => [b.id, []]));
    const webTimes: Record<string, number[]> = Object.fromEntries(BACKBONES.map((b) => [b.id, []]));
    // One browser worker for all rounds (sessions are created once); node runs between its rounds.
    const rounds = ROUNDS;
    for (let r = 0; r < rounds; r++) {
      for (const id of Object.keys(node)) nodeTimes[id]!.push(...(await node[id]!(RUNS)));
      const w = await page.evaluate(([t, n]) => window.vidkindBench.pieces.inferBackbones(t, n, 1), [threads, RUNS] as const);
      if (r === 0) console.log(`infer worker device: ${JSON.stringify(w.device)}`);
      for (const [id, t] of Object.entries(w.times)) webTimes[id]?.push(...t);
    }
    for (const id of Object.keys(node))
      console.log(
        `${threads}t ${id}: ort-web (infer worker) ${fmt(webTimes[id]!)} | ort-node ${fmt(nodeTimes[id]!)} | ratio ${(median(webTimes[id]!) / median(nodeTimes[id]!)).toFixed(2)}x (min ratio ${(Math.min(...webTimes[id]!) / Math.min(...nodeTimes[id]!)).toFixed(2)}x)`,
      );
  }
}

const MEDIA = join(ROOT, 'bench/work/media');
const CLIPS = {
  '10s': ['h264_720p30_10s.mp4', 10],
  '60s': ['h264_720p30_60s.mp4', 60],
  '1h': ['h264_720p30_3600s.mp4', 3600],
  vp9: ['vp9_1080p30_10s.webm', 10],
  avi: ['mpeg4_720p30_10s.avi', 10],
} as const;

/** Decode alone vs decode + draw + getImageData (full size and model size), alternating, per clip. */
async function decodeProbe(page: Page) {
  const { samplePlan } = (await import(String('../src/core/sampling.ts'))) as {
    samplePlan(d: number, o: { frames: number; frameRate: number }): { unique: number[] };
  };
  for (const [id, [file, duration]] of Object.entries(CLIPS)) {
    if (id !== '10s' && id !== '60s') continue;
    const ts = samplePlan(duration, { frames: 32, frameRate: 30 }).unique;
    const variants = [
      ['decode only', 'decode', undefined],
      ['decode + draw 1280x720 + getImageData', 'draw', { width: 1280, height: 720 }],
      ['decode + draw 398x224 + getImageData', 'draw', { width: 398, height: 224 }],
      ['decode + VideoFrame.copyTo RGBA (full size)', 'copy', undefined],
    ] as const;
    const times: number[][] = variants.map(() => []);
    const draw: number[][] = variants.map(() => []);
    for (let r = 0; r < ROUNDS; r++)
      for (const [i, [, mode, size]] of variants.entries()) {
        const o = await page.evaluate(([n, t, m, sz]) => window.vidkindBench.pieces.decode(n, t as number[], m, sz), [
          file,
          ts,
          mode,
          size,
        ] as const);
        times[i]!.push(o.totalMs);
        draw[i]!.push(o.drawMs);
      }
    variants.forEach(([label], i) => console.log(`${id} ${label}: total ${fmt(times[i]!)}; draw+read ${fmt(draw[i]!)}`));
    // Two decoders at once, each on half of the samples (the second from the key frame before its first).
    const halves = [ts.slice(0, ts.length >> 1), ts.slice(ts.length >> 1)];
    const par: number[] = [];
    const one: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = Date.now();
      await page.evaluate(([n, h]) => Promise.all(h.map((t) => window.vidkindBench.pieces.decode(n, t, 'decode'))), [
        file,
        halves,
      ] as const);
      par.push(Date.now() - t0);
      const t1 = Date.now();
      await page.evaluate(([n, t]) => window.vidkindBench.pieces.decode(n, t, 'decode'), [file, ts] as const);
      one.push(Date.now() - t1);
    }
    console.log(`${id} decode only, one decoder (wall): ${fmt(one)}; two decoders at once on the halves (wall): ${fmt(par)}`);
  }
}

/** The app's decode worker at 16 frames, disposable H.264 frames left out vs every packet decoded, alternating. */
async function skipProbe(page: Page) {
  for (const id of ['10s', '60s'] as const) {
    const file = CLIPS[id][0];
    const times: Record<'skip' | 'all', number[]> = { skip: [], all: [] };
    let skipped = 0;
    for (let r = 0; r < ROUNDS; r++)
      for (const mode of ['skip', 'all'] as const) {
        const o = await page.evaluate(([n, s]) => window.vidkindBench.pieces.decodeClient(n, 16, undefined, s), [
          file,
          mode === 'skip',
        ] as const);
        times[mode].push(o.wallMs);
        if (mode === 'skip') skipped = o.skippedPackets;
      }
    console.log(`${id} decode, 16 frames: skipping ${fmt(times.skip)} (${skipped} packets left out); every packet ${fmt(times.all)}`);
  }
}

type Variant = { threads: number; backboneWorkers?: number | 'auto' };
const VARIANTS: Record<'classify' | 'lanes', Variant[]> = {
  /** 1 vs 2 WASM threads in one worker. */
  classify: [
    { threads: 1, backboneWorkers: 1 },
    { threads: 2, backboneWorkers: 1 },
  ],
  /** One inference worker vs two side by side (1 thread each, frames spread over them). */
  lanes: [
    { threads: 1, backboneWorkers: 1 },
    { threads: 1, backboneWorkers: 2 },
  ],
};

/** The whole classify under each variant, alternating. */
async function classifyProbe(page: Page, variants: Variant[], ids: Array<keyof typeof CLIPS>) {
  for (const id of ids) {
    const file = CLIPS[id][0];
    const runs = await page.evaluate(([n, v, r, f]) => window.vidkindBench.pieces.classifyVariants(n, v, r, f), [
      file,
      variants,
      ROUNDS,
      FRAMES,
    ] as const);
    for (const [i, v] of variants.entries()) {
      const rs = runs[i]! as Array<{
        wallMs: number;
        timings: { decode: number; backbone: number };
        work: { backbones: Record<string, { runs: number; ms: number }>; preprocessMs: number };
      }>;
      const per = Object.entries(rs[0]!.work.backbones)
        .map(([b]) => `${b} ${fmt(rs.map((x) => x.work.backbones[b]!.ms / x.work.backbones[b]!.runs))}/run`)
        .join('; ');
      console.log(
        `${id} classify ${v.threads}t ${v.backboneWorkers ?? 'auto'}w: wall ${fmt(rs.map((x) => x.wallMs))}; decode ${fmt(rs.map((x) => x.timings.decode))}; preprocess ${fmt(rs.map((x) => x.work.preprocessMs))}; ${per}`,
      );
    }
  }
}

/** A first visit per run (fresh context: empty Cache API and HTTP cache), one vs two inference workers, alternating. */
async function coldProbe(browser: import('playwright-core').Browser, port: number) {
  const times: Record<number, number[]> = { 1: [], 2: [] };
  const used: Record<number, number[][]> = { 1: [], 2: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const workers of [1, 2]) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${port}/bench/page/index.html`);
      await page.waitForFunction(() => document.getElementById('log')?.textContent === 'ready');
      await page.setInputFiles('#files', join(MEDIA, CLIPS['60s'][0]));
      const out = await page.evaluate(([n, w, f]) => window.vidkindBench.pieces.coldClassify(n, w, f), [
        CLIPS['60s'][0],
        workers,
        FRAMES,
      ] as const);
      times[workers]!.push(out.wallMs);
      used[workers]!.push(out.perWorker);
      await ctx.close();
    }
  for (const w of [1, 2])
    console.log(`60s cold first visit, ${w} worker(s): ${fmt(times[w]!)}; backbone inputs per worker ${JSON.stringify(used[w])}`);
}

const port = Number(args.port);
if (!args['no-build']) build();
const server = await serve(port);
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (process.env.PIECES_CONSOLE || m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto(`http://127.0.0.1:${port}/bench/page/index.html`);
  await page.waitForFunction(() => document.getElementById('log')?.textContent === 'ready');
  await page.setInputFiles(
    '#files',
    Object.values(CLIPS).map(([f]) => join(MEDIA, f)),
  );
  for (const what of positionals.length ? positionals : ['ort']) {
    if (what === 'ort') await ortProbe(page);
    if (what === 'cold') await coldProbe(browser, port);
    if (what === 'ort-log') await ortLog(page);
    if (what === 'decode') await decodeProbe(page);
    if (what === 'skip') await skipProbe(page);
    if (what === 'infer') await inferProbe(page);
    if (what === 'classify') await classifyProbe(page, VARIANTS[what], ['10s', '60s']);
    // Also the decode-heavy clips (1080p VP9, and MPEG-4 through ffmpeg.wasm), where the decoder needs the core most.
    if (what === 'lanes') await classifyProbe(page, VARIANTS[what], ['10s', '60s', 'vp9', 'avi']);
  }
} finally {
  await browser.close();
  if (server.pid) process.kill(-server.pid, 'SIGTERM');
}
