/**
 * Models for the privacy and hostile-input specs: the shipped public/models when its manifest has
 * heads; otherwise TEST MODELS (tests/e2e/infer-models.ts: the shipped backbone with seeded,
 * untrained heads) served to the page as ./models/ by Playwright, so the same requests are made.
 */
import type { BrowserContext } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTestModels } from './infer-models';

/** A models directory to serve in place of public/models, or undefined when the shipped one has heads. */
export function testModelsIfNeeded(): { dir: string; dispose(): void } | undefined {
  const manifest = JSON.parse(readFileSync(path.resolve('public/models/manifest.json'), 'utf8')) as { heads?: unknown[] };
  if ((manifest.heads ?? []).length > 0) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'vidkind-models-'));
  writeTestModels(dir, { frames: 8 });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Serves `dir` as the site's ./models/ (same URLs, so the page makes exactly the requests it would). */
export async function routeModels(context: BrowserContext, dir: string | undefined): Promise<void> {
  if (!dir) return;
  await context.route('**/models/**', (route) => {
    const rel = new URL(route.request().url()).pathname.split('/models/')[1]!;
    const f = path.join(dir, rel);
    if (!existsSync(f)) return route.continue();
    return route.fulfill({
      body: readFileSync(f),
      headers: { 'content-type': rel.endsWith('.json') ? 'application/json' : 'application/octet-stream' },
    });
  });
}
