/**
 * Zero egress and the Content-Security-Policy, in real Chromium on the built site served as
 * `npm start` serves it: every request the page and its workers make, from load to the end of a
 * classification (WebCodecs path and the ffmpeg.wasm fallback), is a same-origin GET of the app's
 * own assets or models, none carries the file's name or content, and the CSP blocks eval while the
 * app, both workers, onnxruntime-web and ffmpeg.wasm work under it without one violation.
 */
import { expect, test, type Request } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { contentSecurityPolicy } from '../../vite.config';
import { routeModels, testModelsIfNeeded } from './models-route';

const MEDIA = path.resolve('tests/fixtures/media');
const models = testModelsIfNeeded();
test.afterAll(() => models?.dispose());
test.use({ serviceWorkers: 'block' });

/** What the page may fetch: its HTML, its built assets (JS, CSS, WASM, worker scripts), models, icons. */
const OWN_ASSET = /^\/(index\.html|diagnostics\.html|assets\/[\w.@-]+|models\/[\w./-]+|favicon\.\w+|[\w-]+\.(svg|png|ico|webmanifest))?$/;

test('from load to verdicts: only same-origin GETs of the app and its models; no request carries the file', async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(300_000);
  await routeModels(context, models?.dir);
  const requests: Request[] = [];
  context.on('request', (r) => requests.push(r));
  page.on('request', (r) => requests.push(r));
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });

  const response = await page.goto('/');
  expect(response?.headers()['content-security-policy']).toBe(contentSecurityPolicy);
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', contentSecurityPolicy);
  await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();

  // A distinctive name and the file's bytes: neither may appear in any request.
  const secretName = 'secret-holiday-7f3a9c.mp4';
  const mp4 = readFileSync(path.join(MEDIA, 'h264.mp4'));
  const avi = readFileSync(path.join(MEDIA, 'mpeg4.avi')); // ffmpeg.wasm fallback: its core loads under the CSP too
  await page.getByTestId('file-input').setInputFiles([
    { name: secretName, mimeType: 'video/mp4', buffer: mp4 },
    { name: 'secret-party-2b8d.avi', mimeType: 'video/x-msvideo', buffer: avi },
  ]);
  await expect(page.getByTestId('queue-status')).toHaveAttribute('data-idle', 'true', { timeout: 240_000 });
  await expect(page.getByTestId('result-row').and(page.locator('[data-outcome="ok"]'))).toHaveCount(2);

  const origin = new URL(baseURL!).origin;
  const seen = [...new Set(requests)];
  expect(seen.length).toBeGreaterThan(3);
  const offenders: string[] = [];
  for (const r of seen) {
    const url = new URL(r.url());
    const what = `${r.method()} ${r.url()}`;
    if (url.protocol === 'blob:' || url.protocol === 'data:') continue; // local to the page, never on the network
    if (url.origin !== origin) offenders.push(`other origin: ${what}`);
    if (r.method() !== 'GET') offenders.push(`not a GET: ${what}`);
    if (r.postDataBuffer()?.length) offenders.push(`has a body: ${what}`);
    if (url.search) offenders.push(`has a query: ${what}`);
    if (!OWN_ASSET.test(url.pathname)) offenders.push(`not an app asset or model: ${what}`);
    if (/secret|holiday|party/i.test(decodeURIComponent(r.url()))) offenders.push(`carries the file name: ${what}`);
    for (const [k, v] of Object.entries(await r.allHeaders()))
      if (/secret|holiday|party/i.test(v)) offenders.push(`header ${k} names the file: ${what}`);
  }
  expect(offenders).toEqual([]);
  // The models and the wasm were fetched (so the list above is the real traffic, not an empty one).
  expect(seen.some((r) => r.url().includes('/models/manifest.json'))).toBe(true);
  expect(seen.some((r) => r.url().endsWith('.wasm'))).toBe(true);

  expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
});

test('the CSP allows nothing beyond self (plus WASM compilation) and blocks eval in the page', async ({ page }) => {
  // The policy itself: every directive lists 'self' or less; no unsafe-eval or unsafe-inline; no hosts.
  for (const directive of contentSecurityPolicy.split(';').map((d) => d.trim())) {
    const [name, ...sources] = directive.split(/\s+/);
    for (const s of sources) expect(["'self'", "'none'", "'wasm-unsafe-eval'", 'blob:', 'data:'], `${name} ${s}`).toContain(s);
    if (sources.includes('blob:') || sources.includes('data:')) expect(['img-src', 'media-src']).toContain(name);
  }
  expect(contentSecurityPolicy).toMatch(/default-src 'self'/);
  expect(contentSecurityPolicy).toMatch(/connect-src 'self'/);

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();
  // page.evaluate itself is exempt from the page's CSP, so the page is made to run code the way an
  // attacker's string would get run: a string timer (eval's twin) and an injected inline script.
  const blocked = await page.evaluate(async () => {
    const w = window as unknown as { __ran: string[] };
    w.__ran = [];
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    (setTimeout as unknown as (code: string, ms: number) => void)("window.__ran.push('timer')", 0);
    const s = document.createElement('script');
    s.textContent = "window.__ran.push('inline')";
    document.head.append(s);
    await new Promise((r) => setTimeout(r, 300));
    return { ran: w.__ran, violations: [...new Set(violations)].sort() };
  });
  expect(blocked).toEqual({ ran: [], violations: ['script-src-elem', 'script-src'].sort() });
  // A request to another origin is refused by the browser before it leaves (connect-src 'self').
  const external = await page.evaluate(() =>
    fetch('http://example.invalid/x').then(
      () => 'sent',
      (e: Error) => e.name,
    ),
  );
  expect(external).toBe('TypeError');
});
