import { expect, test } from '@playwright/test';

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
  // Served with COOP/COEP, so WASM threads are available; WebGPU is SwiftShader's fallback adapter here.
  await expect(page.getByTestId('cap-isolated')).toHaveText('yes');
  await expect(page.getByTestId('cap-threads')).toContainText('yes');
  await expect(page.getByTestId('cap-webcodecs')).toHaveText('yes');
  await expect(page.getByTestId('cap-webgpu')).not.toHaveText('');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await page.screenshot({ path: 'test-results/shell.png', fullPage: true });
  expect(problems).toEqual([]);
});
