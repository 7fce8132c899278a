/**
 * The browser side of the bench: build the site (plus the bench page) into bench/work/dist, serve it
 * with `vite preview` (the same COOP/COEP headers as `npm start`) on a free port, and drive Debian's
 * Chromium through Playwright. Memory is the peak summed PSS of every Chromium process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../playwright.config.ts';
import { MemorySampler, type MemoryPeak } from './memory.ts';
import type { ClassifyRun } from './page/main.ts';

export type { ClassifyRun };

export function buildSite(log: (s: string) => void): string | null {
  log('building the site and the bench page (vite build --config bench/vite.config.ts)');
  const r = spawnSync('npx', ['vite', 'build', '--config', 'bench/vite.config.ts', '--logLevel', 'error'], { encoding: 'utf8' });
  return r.status === 0 ? null : `vite build failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Server {
  url: string;
  stop(): void;
}

/** Serves a build with `vite preview` on a free port: the bench's (default) or, with `config` 'vite.config.ts', the site's own. */
export async function serve(config = 'bench/vite.config.ts'): Promise<Server> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'npx',
    ['vite', 'preview', '--config', config, '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  const url = `http://127.0.0.1:${port}/`;
  const stop = () => {
    // Our own process group (detached above): npx, vite and nothing else.
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  };
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(url)).ok) return { url, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  stop();
  throw new Error(`vite preview did not answer on ${url} within 60 s`);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

/** Peak memory of all Chromium processes (children of this Node process) while `fn` runs. */
export async function withMemory<T>(fn: () => Promise<T>): Promise<{ value: T; memory: MemoryPeak }> {
  const sampler = new MemorySampler(
    () => [process.pid],
    (exe) => exe.includes('chromium') || exe.includes('chrome'),
  );
  try {
    const value = await fn();
    return { value, memory: sampler.stop() };
  } catch (e) {
    sampler.stop();
    throw e;
  }
}

/** A bench page in a fresh context (empty Cache API, IndexedDB, HTTP cache: a first visit). */
export async function openBenchPage(
  browser: Browser,
  baseUrl: string,
  files: string[],
): Promise<{ context: BrowserContext; page: Page; loadMs: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const t = performance.now();
  await page.goto(new URL('bench/page/index.html', baseUrl).href);
  await page.waitForFunction(() => document.getElementById('log')?.textContent === 'ready', undefined, { timeout: 60_000 });
  const loadMs = performance.now() - t;
  await page.setInputFiles('#files', files);
  return { context, page, loadMs };
}

/** Re-opens the page in the same context (models in the Cache API, sessions not created: a return visit). */
export async function reopen(context: BrowserContext, baseUrl: string, files: string[]): Promise<Page> {
  const page = await context.newPage();
  await page.goto(new URL('bench/page/index.html', baseUrl).href);
  await page.waitForFunction(() => document.getElementById('log')?.textContent === 'ready', undefined, { timeout: 60_000 });
  await page.setInputFiles('#files', files);
  return page;
}

export const bench = {
  setup: (page: Page, opts: { threads?: number; backend?: 'wasm' | 'webgpu' | 'auto'; featureCache?: boolean; frames?: number }) =>
    page.evaluate((o) => window.vidkindBench.setup(o), opts),
  init: (page: Page) => page.evaluate(() => window.vidkindBench.init()),
  classify: (page: Page, name: string, as?: string) => page.evaluate(([n, a]) => window.vidkindBench.classify(n!, a), [name, as] as const),
  caps: (page: Page) => page.evaluate(() => window.vidkindBench.detectCapabilities()),
  dispose: (page: Page) => page.evaluate(() => window.vidkindBench.dispose()),
};

export function chromiumVersion(browser: Browser): string {
  return browser.version();
}

/**
 * The real app, as a person uses it: open the site, pick a file in the file input, wait for its
 * verdict row. Returns ms from picking to the row, or an error string when the app cannot classify
 * (e.g. its models failed to load).
 */
export async function appTimeToVerdict(page: Page, file: string, expectedRows: number): Promise<number | string> {
  const t = performance.now();
  await page.setInputFiles('[data-testid="file-input"]', file);
  const outcome = await page.waitForFunction(
    (n) => {
      const failed = document.querySelector('[data-testid="models-failed"], [data-testid="model-error"]');
      if (failed) return `models failed: ${failed.textContent?.trim().slice(0, 200)}`;
      const rows = document.querySelectorAll('[data-testid="result-row"]');
      if (rows.length < n) return false;
      const last = rows[rows.length - 1]!;
      return last.getAttribute('data-outcome') === 'ok' ? 'ok' : `error row: ${last.textContent?.trim().slice(0, 200)}`;
    },
    expectedRows,
    { polling: 20, timeout: 10 * 60_000 },
  );
  const ms = performance.now() - t;
  const v = await outcome.jsonValue();
  return v === 'ok' ? ms : String(v);
}

/** Opens the app in a context; `ready` resolves true once its models are loaded, or to the error shown. */
export async function openApp(context: BrowserContext, baseUrl: string): Promise<{ page: Page; loadMs: number }> {
  const page = await context.newPage();
  const t = performance.now();
  await page.goto(baseUrl);
  await page.waitForSelector('[data-testid="file-input"]', { state: 'attached', timeout: 60_000 });
  return { page, loadMs: performance.now() - t };
}

export async function appModelsReady(page: Page): Promise<true | string> {
  const h = await page.waitForFunction(
    () => {
      const s = document.querySelector('[data-testid="model-status"]')?.getAttribute('data-status');
      if (s === 'ready') return 'ready';
      const failed = document.querySelector('[data-testid="models-failed"], [data-testid="model-error"]');
      return failed ? `models failed: ${failed.textContent?.trim().slice(0, 200)}` : false;
    },
    undefined,
    { polling: 50, timeout: 5 * 60_000 },
  );
  const v = await h.jsonValue();
  return v === 'ready' ? true : String(v);
}
