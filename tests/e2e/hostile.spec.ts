/**
 * Hostile inputs (scripts/make-hostile.sh) in the real app in Chromium, under the built site's CSP:
 * every file dropped in one go gets a row with a clear error code and message, or a verdict where
 * it is still decodable (tests/e2e/hostile-expectations.json); names are shown as text; the queue
 * finishes (no hang) and a good clip dropped after the batch still classifies.
 *
 * Byte-flip variants: 20 here, through the decode stage only (the real decode worker, WebCodecs and
 * the ffmpeg.wasm fallback) to keep the browser run short; all 100 go through the full pipeline in
 * node-trainer/tests/hostile (vidkind classify).
 *
 * Models: test models (the smallest shipped backbone, an untrained 8-frame head), see below.
 */
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { byteFlipVariant } from '../../node-trainer/tests/hostile/hostile-inputs';
import { writeTestModels } from './infer-models';
import { routeModels } from './models-route';

const HOSTILE = path.resolve('tests/fixtures/hostile');
const EXPECTED = (
  JSON.parse(readFileSync(path.resolve('tests/e2e/hostile-expectations.json'), 'utf8')) as {
    files: Record<string, { browser: string[] }>;
  }
).files;
const BROWSER_FLIPS = 20;
// Always TEST MODELS here (the smallest shipped backbone, an untrained 8-frame head): what is under
// test is the decoders, the pipeline and the queue, not the verdicts, and one small backbone on 8
// frames instead of the shipped two-backbone, 32-frame ensemble makes this run several times shorter.
// The shipped ensemble goes through the same pipeline in app.spec.ts and privacy.spec.ts.
let modelsDir = '';

test.use({ serviceWorkers: 'block' });
test.beforeAll(() => {
  const made = spawnSync('bash', ['scripts/make-hostile.sh'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`make-hostile.sh failed: ${made.stderr}`);
  modelsDir = mkdtempSync(path.join(tmpdir(), 'vidkind-hostile-models-'));
  writeTestModels(modelsDir, { frames: 8 });
});
test.afterAll(() => {
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

async function waitForQueueIdle(page: Page, timeout: number) {
  await expect(page.getByTestId('queue-status')).toHaveAttribute('data-idle', 'true', { timeout });
}

test('every hostile file gets a clear error or a verdict in the app; the queue finishes; the next file classifies', async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  await routeModels(context, modelsDir);
  const crashes: string[] = [];
  page.on('crash', () => crashes.push('page crashed'));
  page.on('pageerror', (e) => crashes.push(`uncaught: ${e.message}`));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();

  const names = readdirSync(HOSTILE)
    .filter((f) => !f.startsWith('.'))
    .sort();
  expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
  // A hostile name on one file: shown as text, never run as HTML.
  const evilName = (n: string) => (n === 'text-renamed.mp4' ? `<img src=x onerror="window.__pwned=1">${n}` : n);
  await page.getByTestId('file-input').setInputFiles(
    names.map((n) => ({
      name: evilName(n),
      mimeType: n.endsWith('.webm') ? 'video/webm' : 'video/mp4',
      buffer: readFileSync(path.join(HOSTILE, n)),
    })),
  );
  // Per-file time limits inside the pipeline keep this bounded; a hang would fail here.
  await waitForQueueIdle(page, 240_000);

  const rows = page.getByTestId('result-row');
  await expect(rows).toHaveCount(names.length);
  const wrong: string[] = [];
  for (const row of await rows.all()) {
    const shown = (await row.getByTestId('result-name').textContent())!;
    const name = shown.replace(/^<img src=x onerror="window.__pwned=1">/, '');
    const ok = (await row.getAttribute('data-outcome')) === 'ok';
    const error = row.getByTestId('result-error');
    const outcome = ok ? 'verdict' : await error.getAttribute('data-code');
    if (!EXPECTED[name]?.browser.includes(outcome ?? '')) wrong.push(`${name}: ${outcome} ${ok ? '' : await error.textContent()}`);
    if (!ok && ((await error.textContent()) ?? '').trim().length < 15) wrong.push(`${name}: no message`);
  }
  expect(wrong).toEqual([]);
  await expect(page.getByText('<img src=x onerror="window.__pwned=1">text-renamed.mp4').first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  // The queue still works: a good clip after the batch gets a verdict.
  await page
    .getByTestId('file-input')
    .setInputFiles([{ name: 'after.mp4', mimeType: 'video/mp4', buffer: readFileSync(path.join(HOSTILE, 'good.mp4')) }]);
  await waitForQueueIdle(page, 120_000);
  await expect(rows.filter({ hasText: 'after.mp4' })).toHaveAttribute('data-outcome', 'ok');
  expect(crashes).toEqual([]);

  // Memory stays bounded: the page's JS heap after ~20 files (the 8K frame included) is small.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
  expect(heap / 2 ** 20, 'page JS heap MB').toBeLessThan(256);
});

interface ErrorInfo {
  code: string;
  message: string;
}
type DecodeWindow = {
  vidkindDiagnostics: {
    decode: { decodeSummary(file: File, request: { frames: number }): Promise<{ frames: unknown[] } | { error: ErrorInfo }> };
  };
};

test(`${BROWSER_FLIPS} byte-flip variants of a good clip: each decodes or fails with a clear code; the decoder then reads the good clip`, async ({
  page,
}) => {
  test.setTimeout(300_000);
  const good = readFileSync(path.join(HOSTILE, 'good.mp4'));
  const variants = Array.from({ length: BROWSER_FLIPS }, (_, i) => Buffer.from(byteFlipVariant(good, i)).toString('base64'));
  await page.goto('/diagnostics.html');
  await expect(page.locator('#log')).toHaveText('ready');
  const outcomes = await page.evaluate(
    async ([variants, good]) => {
      const d = (window as unknown as DecodeWindow).vidkindDiagnostics.decode;
      const toFile = (b64: string, name: string) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name);
      const out: Array<{ code: string; message: string }> = [];
      for (const [i, v] of variants.entries()) {
        const r = await d.decodeSummary(toFile(v, `flip-${i}.mp4`), { frames: 4 });
        out.push('error' in r ? r.error : { code: 'decoded', message: `${r.frames.length} frames` });
      }
      const after = await d.decodeSummary(toFile(good, 'good.mp4'), { frames: 4 });
      out.push('error' in after ? after.error : { code: 'decoded', message: `${after.frames.length} frames` });
      return out;
    },
    [variants, good.toString('base64')] as const,
  );
  const allowed = ['decoded', 'corrupt-file', 'unsupported-container', 'unsupported-codec', 'no-video-track', 'too-short', 'timeout'];
  for (const [i, o] of outcomes.entries()) {
    expect(allowed, `variant ${i}: ${o.code} ${o.message}`).toContain(o.code);
    expect(o.message.length, `variant ${i}`).toBeGreaterThan(5);
  }
  expect(outcomes.at(-1)).toEqual({ code: 'decoded', message: '4 frames' });
});
