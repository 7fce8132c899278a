/**
 * Per-stage time limits in the real app: a decode or an inference worker that hangs ends with a
 * `timeout` error for that file, and the queue goes on: the next file still gets a verdict (from a
 * fresh worker).
 *
 * The hangs are real, not simulated: a request the worker needs is held by the test and never
 * answered, as on a stalled connection (ffmpeg.wasm's core for the decode worker, onnxruntime-web's
 * WASM binary for the inference worker). The stall limits are set short through their stored
 * override (src/lib/watchdog.ts, STAGE_LIMITS_KEY) to keep the tests fast.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STAGE_LIMITS_KEY, type StageLimits } from '../../src/lib/watchdog';
import { writeTestModels } from './infer-models';
import { routeModels } from './models-route';

const MEDIA = path.resolve('tests/fixtures/media');
const STALL_MS = 4000;
// The decode's limit is longer: before ffmpeg.wasm asks for its core, the worker loads ffmpeg's
// script and starts its own worker, which took over 4 s on a loaded 2-core machine (load 8; the
// limit then fired before the held request was made).
const DECODE_STALL_MS = 10_000;
// Test models (the smallest shipped backbone, an untrained 8-frame head): the verdict is not what is tested.
let modelsDir = '';

test.use({ serviceWorkers: 'block' });
test.beforeAll(() => {
  modelsDir = mkdtempSync(path.join(tmpdir(), 'vidkind-watchdog-models-'));
  writeTestModels(modelsDir, { frames: 8 });
});
test.afterAll(() => {
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

/**
 * Opens the app with the given stall limits stored, picks two fixtures (shown under the given
 * names) and waits for the queue to finish. Returns the two result rows and any uncaught page errors.
 */
async function classifyTwo(page: Page, limits: Partial<StageLimits>, files: Array<{ name: string; mimeType: string; fixture: string }>) {
  await page.addInitScript(([key, value]) => localStorage.setItem(key, value), [STAGE_LIMITS_KEY, JSON.stringify(limits)] as const);
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();

  await page
    .getByTestId('file-input')
    .setInputFiles(files.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: readFileSync(path.join(MEDIA, f.fixture)) })));
  await expect(page.getByTestId('queue-status')).toHaveAttribute('data-idle', 'true', { timeout: 150_000 });

  const rows = page.getByTestId('result-row');
  await expect(rows).toHaveCount(2);
  return { rows, crashes };
}

test('a decode that hangs ends with a timeout error for its file; the next file still classifies', async ({ page, context }) => {
  test.setTimeout(180_000);
  await routeModels(context, modelsDir);
  const held: string[] = [];
  // Never answered: ffmpeg.wasm's load() waits for this forever.
  await context.route('**/ffmpeg-core*.wasm', (route) => void held.push(route.request().url()));
  const { rows, crashes } = await classifyTwo(page, { decodeStallMs: DECODE_STALL_MS }, [
    { name: 'stalls.avi', mimeType: 'video/x-msvideo', fixture: 'mpeg4.avi' },
    { name: 'after.mp4', mimeType: 'video/mp4', fixture: 'h264.mp4' },
  ]);
  const stalled = rows.filter({ hasText: 'stalls.avi' });
  await expect(stalled).toHaveAttribute('data-outcome', 'error');
  const error = stalled.getByTestId('result-error');
  await expect(error).toHaveAttribute('data-code', 'timeout');
  await expect(error).toContainText('no progress');
  await expect(rows.filter({ hasText: 'after.mp4' })).toHaveAttribute('data-outcome', 'ok');
  // The hang was the held request, not something else.
  expect(held.length).toBeGreaterThan(0);
  expect(crashes).toEqual([]);
});

test('an inference worker that hangs is stopped: its file gets a timeout error, and a fresh worker classifies the next file', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  await routeModels(context, modelsDir);
  // The first request for onnxruntime-web's WASM binary is held and never answered: the inference
  // worker's first model load waits for a runtime that never arrives. Later requests (the fresh
  // worker's) go through.
  const held: string[] = [];
  await context.route(/ort-wasm-simd-threaded-[^./]+\.wasm$/, (route) => {
    if (held.length === 0) return void held.push(route.request().url());
    return route.continue();
  });
  const { rows, crashes } = await classifyTwo(page, { inferStallMs: STALL_MS }, [
    { name: 'first.mp4', mimeType: 'video/mp4', fixture: 'h264.mp4' },
    { name: 'second.webm', mimeType: 'video/webm', fixture: 'vp9.webm' },
  ]);
  const first = rows.filter({ hasText: 'first.mp4' });
  await expect(first).toHaveAttribute('data-outcome', 'error');
  await expect(first.getByTestId('result-error')).toHaveAttribute('data-code', 'timeout');
  await expect(first.getByTestId('result-error')).toContainText('inference worker');
  await expect(rows.filter({ hasText: 'second.webm' })).toHaveAttribute('data-outcome', 'ok');
  // A timeout is not about the file: tried again, on the fresh worker, it gets its verdict.
  await first.getByRole('button', { name: 'Try first.mp4 again' }).click();
  await expect(page.getByTestId('queue-status')).toHaveAttribute('data-idle', 'true', { timeout: 120_000 });
  await expect(rows.filter({ hasText: 'first.mp4' })).toHaveAttribute('data-outcome', 'ok');
  await expect(page.getByTestId('retry-item')).toHaveCount(0);
  expect(held).toHaveLength(1);
  expect(crashes).toEqual([]);
});
