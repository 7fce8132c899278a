import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { DEFAULT_TAXONOMY } from '../../src/core/taxonomy';

test('the app loads, promises privacy and reports what this browser offers', async ({ page }) => {
  // Nothing a visitor's console would show as a problem: no failed request (a missing favicon was one), no error.
  const problems: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'vidkind' })).toBeVisible();
  await expect(page.getByTestId('privacy-note')).toContainText('Nothing is uploaded');
  await expect(page.getByTestId('dropzone')).toBeVisible();
  // Before the first file: what the four kinds mean, in the models' own words, with their subcategories.
  const kinds = page.getByTestId('kinds');
  await expect(kinds.locator('dt')).toHaveText(DEFAULT_TAXONOMY.classes.map((c) => c.name));
  for (const c of DEFAULT_TAXONOMY.classes) {
    await expect(kinds.locator(`[data-kind="${c.id}"]`)).toContainText(c.description!);
    await expect(kinds.locator(`[data-kind="${c.id}"] .subs`)).toHaveText(c.subclasses.map((s) => s.name).join(' · '));
  }
  // The first screen passes axe-core's WCAG 2.1 A/AA and best-practice rules.
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  expect(axe.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))).toEqual([]);
  // Served with COOP/COEP, so WASM threads are available; WebGPU is SwiftShader's fallback adapter here.
  await expect(page.getByTestId('cap-isolated')).toHaveText('yes');
  await expect(page.getByTestId('cap-threads')).toContainText('yes');
  await expect(page.getByTestId('cap-webcodecs')).toHaveText('yes');
  await expect(page.getByTestId('cap-webgpu')).not.toHaveText('');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await page.screenshot({ path: 'test-results/shell.png', fullPage: true });
  expect(problems).toEqual([]);
});

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });
  test('the page says what vidkind needs instead of staying blank', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();
    await expect(page.getByRole('paragraph')).toContainText('so it needs JavaScript. Turn JavaScript on');
  });
});
