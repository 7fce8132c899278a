/**
 * In-browser inference in real Chromium: onnxruntime-web on WASM and on WebGPU (SwiftShader here:
 * one or two frames only), refusal of tampered models, the feature cache, and parity with
 * onnxruntime-node. Models: TEST MODELS from tests/e2e/infer-models.ts (generated heads, and the
 * shipped backbone when public/models has one, else a generated CNN), served to the page in place
 * of ./models/.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { frameToTensor } from '../../src/core/preprocess';
import { parseResult, type SuccessResult } from '../../src/core/result';
import { writeTestModels, type TestModelSet } from './infer-models';

const MEDIA = path.resolve('tests/fixtures/media');
const HOSTILE = path.resolve('tests/fixtures/hostile');

/**
 * The part of the page's `(window as unknown as DiagWindow).vidkindDiagnostics.infer` (src/diagnostics/infer.ts) used here,
 * declared locally because the e2e TypeScript project does not include the app's sources.
 */
interface ClassifySettings {
  frames: number;
  ensemble?: string;
  tta: boolean;
  backend: 'auto' | 'webgpu' | 'wasm';
}
type ErrorInfo = { code: string; message: string };
interface Classified {
  result: unknown;
  fromFeatureCache: boolean;
  durationS: number;
  work: { decodedFrames: number; backboneFrames: number; headRuns: number; preprocessMs: number; backboneFramesPerWorker: number[] };
  thumbnails: Array<{ t: number; width: number; height: number }>;
  stages: string[];
}
type ModelsOut = { embedding?: number[]; logits?: number[]; subLogits?: number[]; attention?: number[]; provider: string };
interface ClassifyOptions {
  featureCache?: boolean;
  threads?: number;
  backboneWorkers?: number | 'auto';
  forceDecoder?: 'webcodecs' | 'ffmpeg';
}
interface InferDiagnostics {
  init(
    settings: Partial<ClassifySettings>,
    options?: { featureCache?: boolean; threads?: number; backboneWorkers?: number | 'auto' },
  ): Promise<
    | { version: string; device: { provider: string; threads: number; notes: string[] }; progress: Array<{ fromCache: boolean }> }
    | { error: ErrorInfo }
  >;
  classify(file: File, settings: Partial<ClassifySettings>, options?: ClassifyOptions): Promise<Classified>;
  classifyAndCancel(file: File, afterMs: number, settings: Partial<ClassifySettings>): Promise<unknown>;
  runModels(config: { backend: ClassifySettings['backend'] }, request: Record<string, unknown>): Promise<ModelsOut | { error: ErrorInfo }>;
  fetchModelBytes(id: string): Promise<{ bytes: number } | { error: ErrorInfo }>;
  cachedModelKeys(): Promise<string[]>;
  clearCaches(): Promise<void>;
}
/** Cast inside page.evaluate (types only): no global augmentation that could clash with other specs. */
type DiagWindow = { vidkindDiagnostics: { infer: InferDiagnostics; decode: { fileFromUrl(url: string): Promise<File> } } };
let models: TestModelSet;
let modelsDir: string;

test.use({ serviceWorkers: 'block' });

test.beforeAll(() => {
  modelsDir = mkdtempSync(path.join(tmpdir(), 'vidkind-infer-'));
  models = writeTestModels(modelsDir);
});

test.afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

/** Serves the test models as ./models/ (optionally with one file's bytes altered) and the media fixtures. */
async function open(page: Page, tamper?: string) {
  await page.route('**/models/**', (route) => {
    const rel = new URL(route.request().url()).pathname.split('/models/')[1]!;
    let body: Buffer;
    try {
      body = readFileSync(path.join(modelsDir, rel));
    } catch {
      return route.fulfill({ status: 404 });
    }
    if (rel === tamper) {
      body = Buffer.from(body);
      const mid = body.length >> 1;
      body[mid] = body[mid]! ^ 0x01;
    }
    return route.fulfill({ body, headers: { 'content-type': rel.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  });
  await page.route('**/__fixtures/*', (route) =>
    route.fulfill({ path: path.join(MEDIA, path.basename(new URL(route.request().url()).pathname)) }),
  );
  await page.route('**/__hostile/*', (route) =>
    route.fulfill({ path: path.join(HOSTILE, path.basename(new URL(route.request().url()).pathname)) }),
  );
  await page.goto('/diagnostics.html');
  await expect(page.locator('#log')).toHaveText('ready');
  await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.clearCaches());
}

/** Classifies a fixture of tests/fixtures/media (or, named 'hostile/<name>', of tests/fixtures/hostile). */
function classify(page: Page, name: string, settings: Partial<ClassifySettings>, options: ClassifyOptions = {}): Promise<Classified> {
  return page.evaluate(
    async ([name, settings, options]) => {
      const url = name.startsWith('hostile/') ? `/__hostile/${name.slice('hostile/'.length)}` : `/__fixtures/${name}`;
      // A fixed lastModified: the same file dropped twice (the feature cache's fingerprint includes it).
      const file = new File([await (await fetch(url)).blob()], name, { lastModified: 1_700_000_000_000 });
      return (window as unknown as DiagWindow).vidkindDiagnostics.infer.classify(file, settings, options);
    },
    [name, settings, options] as const,
  );
}

function success(c: Classified): SuccessResult {
  const r = parseResult(c.result);
  if ('error' in r) throw new Error(`classify failed: ${r.error.code}: ${r.error.message}`);
  return r;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const probVector = (r: SuccessResult) => Object.values(r.probs) as number[];

test('classifies a real video on WASM into a valid Result with segments, attention and provider', async ({ page }) => {
  await open(page);
  const c = await classify(page, 'h264.mp4', { frames: 8, backend: 'wasm', ensemble: 'test-pair' }, { featureCache: false });
  const r = success(c);
  expect(r.models).toMatchObject({ ensemble: 'test-pair', tta: false, backbones: [models.manifest.backbones[0]!.id] });
  // Threads = cores up to 4 when cross-origin isolated (the preview server sends COOP/COEP), else 1.
  const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
  // Default threads leave one core to the decoder (workers/infer/providers.ts).
  const threads = env.isolated ? Math.max(1, Math.min(4, env.cores - 1)) : 1;
  expect(r.models.provider).toBe(`wasm (${threads} thread${threads === 1 ? '' : 's'})`);
  expect(probVector(r).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  expect(r.attention).toHaveLength(8);
  expect(r.attention.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  // window 4, stride 2 over 8 frames: starts 0, 2, 4.
  expect(r.segments).toHaveLength(3);
  expect(r.segments[2]!.t1).toBeCloseTo(r.video!.durationS, 3);
  expect(r.subclass?.id).toBeTruthy();
  expect(r.ood.score).toBeGreaterThanOrEqual(0);
  expect(r.timingsMs.backbone).toBeGreaterThan(0);
  expect(r.timingsMs.head).toBeGreaterThan(0);
  expect(c.work.backboneFrames).toBe(8);
  expect(c.thumbnails).toHaveLength(8);
  expect(c.stages).toEqual(expect.arrayContaining(['loading-models', 'decoding', 'classifying', 'done']));
});

test('one inference worker or two taking frames in turn: the same probabilities, each backbone once per frame, both workers used', async ({
  page,
}) => {
  await open(page);
  const settings = { frames: 8, backend: 'wasm' as const, ensemble: 'test-two' };
  const out: Record<number, Classified> = {};
  for (const backboneWorkers of [1, 2]) {
    const init = await page.evaluate(([s, o]) => (window as unknown as DiagWindow).vidkindDiagnostics.infer.init(s, o), [
      settings,
      { featureCache: false, threads: 1, backboneWorkers },
    ] as const);
    if ('error' in init) throw new Error(init.error.message);
    expect(init.device.notes.some((n) => /side by side in 2 workers/.test(n))).toBe(backboneWorkers === 2);
    out[backboneWorkers] = await classify(page, 'h264.mp4', settings, { featureCache: false, threads: 1, backboneWorkers });
  }
  const [one, two] = [success(out[1]!), success(out[2]!)];
  expect(one.models.backbones).toEqual([models.manifest.backbones[0]!.id, 'test-cnn-b']);
  expect(two.models.backbones).toEqual(one.models.backbones);
  expect(maxDiff(probVector(one), probVector(two))).toBeLessThan(1e-6);
  expect(maxDiff(one.attention, two.attention)).toBeLessThan(1e-6);
  for (const c of [out[1]!, out[2]!]) {
    expect(c.work.backboneFrames).toBe(8 * 2);
    expect(c.thumbnails).toHaveLength(8);
  }
  // Frames, not backbones, are spread: each worker ran both backbones on some of the frames.
  expect(out[1]!.work.backboneFramesPerWorker).toEqual([8 * 2]);
  const perWorker = out[2]!.work.backboneFramesPerWorker;
  expect(perWorker).toHaveLength(2);
  expect(perWorker.every((n) => n > 0 && n % 2 === 0)).toBe(true);
  expect(perWorker[0]! + perWorker[1]!).toBe(8 * 2);
});

test('WebCodecs failing partway through a file: the frames ffmpeg.wasm sends again replace the first ones, as if ffmpeg.wasm alone had decoded it', async ({
  page,
}) => {
  // scripts/make-hostile.sh: garbage over 4 KB mid-file; Chromium's decoder stops after a few frames.
  await open(page);
  const settings = { frames: 8, backend: 'wasm' as const, ensemble: 'test-pair' };
  const auto = await classify(page, 'hostile/corrupt-middle.mp4', settings, { featureCache: false });
  const ffmpeg = await classify(page, 'hostile/corrupt-middle.mp4', settings, { featureCache: false, forceDecoder: 'ffmpeg' });
  const [a, f] = [success(auto), success(ffmpeg)];
  expect(a.video?.decoder).toBe('ffmpeg');
  expect(auto.work.decodedFrames, 'frames WebCodecs sent before it failed, then all of them again').toBeGreaterThan(8);
  expect(ffmpeg.work.decodedFrames).toBe(8);
  expect(maxDiff(probVector(a), probVector(f))).toBeLessThan(1e-6);
  expect(maxDiff(a.attention, f.attention)).toBeLessThan(1e-6);
  expect(auto.thumbnails.map((t) => t.t)).toEqual(ffmpeg.thumbnails.map((t) => t.t));
});

test('WASM and WebGPU give the same probabilities within 1e-3 (SwiftShader, 2 frames)', async ({ page }) => {
  // SwiftShader compiles and runs every WebGPU shader on the CPU: minutes, even for 2 frames.
  test.setTimeout(480_000);
  await open(page);
  // Which onnxruntime-web build each backend loads: the plain WASM one (14 MB) unless a backbone runs on WebGPU.
  const runtimes: string[] = [];
  page.on('request', (r) => {
    const m = /ort-wasm-simd-threaded(\.\w+)?-[\w-]+\.wasm$/.exec(r.url());
    if (m) runtimes.push(m[1] ?? '.plain');
  });
  const settings = { frames: 2, ensemble: 'test-single' };
  const wasm = success(await classify(page, 'h264.mp4', { ...settings, backend: 'wasm' }, { featureCache: false }));
  // (once per inference worker: two here on WASM, one on WebGPU)
  expect([...new Set(runtimes)]).toEqual(['.plain']);
  const gpuRun = await classify(page, 'h264.mp4', { ...settings, backend: 'webgpu' }, { featureCache: false });
  const gpu = success(gpuRun);
  expect(gpu.models.provider).toMatch(/^webgpu/);
  expect([...new Set(runtimes)]).toEqual(['.plain', '.asyncify']);
  expect(maxDiff(probVector(wasm), probVector(gpu))).toBeLessThan(1e-3);
  expect(maxDiff(wasm.attention, gpu.attention)).toBeLessThan(1e-3);
  expect(gpu.label).toBe(wasm.label);
});

test('a tampered model is refused with a clear error and never run', async ({ page }) => {
  const head = models.manifest.heads[0]!;
  await open(page, head.file);
  const init = await page.evaluate(() =>
    (window as unknown as DiagWindow).vidkindDiagnostics.infer.init({ backend: 'wasm', ensemble: 'test-single' }),
  );
  expect('error' in init && init.error.code).toBe('model-integrity');
  expect('error' in init && init.error.message).toContain(head.file);
  const c = await classify(page, 'h264.mp4', { frames: 2, backend: 'wasm', ensemble: 'test-single' });
  expect(c.result).toMatchObject({ file: 'h264.mp4', error: { code: 'model-integrity' } });
  expect(c.work.backboneFrames).toBe(0);
  // Nothing was cached under the tampered file's key.
  const keys = await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.cachedModelKeys());
  expect(keys.some((k) => k.includes(head.file))).toBe(false);
});

test('models are cached under versioned keys and cleared by "clear cached models"', async ({ page }) => {
  await open(page);
  const first = await page.evaluate(() =>
    (window as unknown as DiagWindow).vidkindDiagnostics.infer.init({ backend: 'auto', ensemble: 'test-pair' }, { featureCache: false }),
  );
  if ('error' in first) throw new Error(first.error.message);
  // 'auto' here: Chromium only offers SwiftShader's fallback adapter, so WASM is chosen, and says why.
  expect(first.device.provider).toBe('wasm');
  expect(first.device.notes.join(' ')).toMatch(/software WebGPU adapter/);
  expect(first.progress.filter((p) => !p.fromCache).length).toBeGreaterThan(0);
  const keys = await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.cachedModelKeys());
  expect(keys).toHaveLength(3);
  for (const k of keys) expect(k).toContain(`v=${models.manifest.version}`);
  // A second pipeline (new worker) reads the verified bytes from the Cache API instead of the network.
  const second = await page.evaluate(() =>
    (window as unknown as DiagWindow).vidkindDiagnostics.infer.init({ backend: 'wasm', ensemble: 'test-pair' }, { featureCache: true }),
  );
  if ('error' in second) throw new Error(second.error.message);
  expect(second.progress.length).toBe(3);
  expect(second.progress.every((p) => p.fromCache)).toBe(true);
  const again = await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.fetchModelBytes('test-head-2'));
  expect(again).toEqual({ bytes: models.manifest.heads[1]!.bytes });
  await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.clearCaches());
  expect(await page.evaluate(() => (window as unknown as DiagWindow).vidkindDiagnostics.infer.cachedModelKeys())).toEqual([]);
});

test('the feature cache makes a second run skip decoding and the backbone', async ({ page }) => {
  await open(page);
  const settings = { frames: 8, backend: 'wasm' as const, ensemble: 'test-single' };
  const first = await classify(page, 'h264.mp4', settings);
  const second = await classify(page, 'h264.mp4', settings);
  expect(first.fromFeatureCache).toBe(false);
  expect(first.work.backboneFrames).toBe(8);
  expect(second.fromFeatureCache).toBe(true);
  expect(second.work).toMatchObject({ decodedFrames: 0, backboneFrames: 0 });
  expect(success(second).timingsMs).toMatchObject({ decode: 0, backbone: 0 });
  expect(maxDiff(probVector(success(first)), probVector(success(second)))).toBeLessThan(1e-6);
  expect(second.thumbnails).toHaveLength(8);

  // Another ensemble on the same backbone: heads only.
  const pair = await classify(page, 'h264.mp4', { ...settings, ensemble: 'test-pair' });
  expect(pair.work.backboneFrames).toBe(0);
  expect(success(pair).models.ensemble).toBe('test-pair');

  // TTA on: only the views not cached yet go through the backbone (flip, crop on the plain plan; the shifted plan).
  const tta = await classify(page, 'h264.mp4', { ...settings, tta: true });
  expect(tta.fromFeatureCache).toBe(false);
  expect(tta.work.backboneFrames).toBe(8 * 3);
  expect(success(tta).models.tta).toBe(true);
  const ttaAgain = await classify(page, 'h264.mp4', { ...settings, tta: true });
  expect(ttaAgain.work.backboneFrames).toBe(0);
  expect(maxDiff(probVector(success(tta)), probVector(success(ttaAgain)))).toBeLessThan(1e-6);
});

test('a bad file gives an error Result and the pipeline carries on', async ({ page }) => {
  await open(page);
  const bad = await classify(page, 'text.mp4', { frames: 4, backend: 'wasm', ensemble: 'test-single' });
  const badResult = parseResult(bad.result);
  expect('error' in badResult && badResult.error.code).toBeTruthy();
  const good = await classify(page, 'h264.mp4', { frames: 4, backend: 'wasm', ensemble: 'test-single' });
  success(good);
});

test('cancelling a classification returns a cancelled Result', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const d = (window as unknown as DiagWindow).vidkindDiagnostics;
    await d.infer.init({ backend: 'wasm', ensemble: 'test-single' });
    return d.infer.classifyAndCancel(await d.decode.fileFromUrl('/__fixtures/mandelbrot.mp4'), 150, {
      frames: 32,
      backend: 'wasm',
      ensemble: 'test-single',
    });
  });
  expect(r).toMatchObject({ error: { code: 'cancelled' } });
});

test('the same inputs through onnxruntime-web and onnxruntime-node give the same outputs within 1e-4', async ({ page }) => {
  await open(page);
  const bb = models.manifest.backbones[0]!;
  const head = models.manifest.heads[0]!;
  // A deterministic RGBA frame (gradients + a checker), and deterministic features [2, 6, D].
  const W = 96;
  const H = 64;
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 4;
      rgba[p] = (x * 255) / W;
      rgba[p + 1] = (y * 255) / H;
      rgba[p + 2] = ((x >> 3) + (y >> 3)) % 2 ? 230 : 20;
      rgba[p + 3] = 255;
    }
  const D = bb.output.dim;
  const n = 2;
  const t = 6;
  const features = Array.from({ length: n * t * D }, (_, i) => Math.sin(i * 0.37) * 0.8 + Math.cos(i * 0.011));

  const web = await page.evaluate(
    ([frame, features, n, t, backboneId, headId]) =>
      (window as unknown as DiagWindow).vidkindDiagnostics.infer.runModels(
        { backend: 'wasm' },
        { backboneId, headId, frames: [frame], features, n, t },
      ),
    [{ width: W, height: H, data: Array.from(rgba) }, features, n, t, bb.id, head.id] as const,
  );
  if ('error' in web) throw new Error(web.error.message);

  const bbSession = await ortNode.InferenceSession.create(readFileSync(path.join(modelsDir, bb.file)));
  const input = frameToTensor({ width: W, height: H, data: rgba }, bb.input);
  const emb = await bbSession.run({ [bb.input.name]: new ortNode.Tensor('float32', input, [1, bb.input.height, bb.input.width, 3]) });
  const headSession = await ortNode.InferenceSession.create(readFileSync(path.join(modelsDir, head.file)));
  const out = await headSession.run({ features: new ortNode.Tensor('float32', Float32Array.from(features), [n, t, D]) });

  expect(maxDiff(web.embedding!, emb[bb.output.name]!.data as Float32Array)).toBeLessThan(1e-4);
  expect(maxDiff(web.logits!, out.logits!.data as Float32Array)).toBeLessThan(1e-4);
  expect(maxDiff(web.subLogits!, out.sub_logits!.data as Float32Array)).toBeLessThan(1e-4);
  expect(maxDiff(web.attention!, out.attention!.data as Float32Array)).toBeLessThan(1e-4);
});
