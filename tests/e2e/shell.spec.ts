import { expect, test } from '@playwright/test';

test('the app loads, promises privacy and reports what this browser offers', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'vidkind' })).toBeVisible();
  await expect(page.getByTestId('privacy-note')).toContainText('Nothing is uploaded');
  await expect(page.getByTestId('dropzone')).toBeVisible();
  // Served with COOP/COEP, so WASM threads are available; WebGPU is SwiftShader's fallback adapter here.
  await expect(page.getByTestId('cap-isolated')).toHaveText('yes');
  await expect(page.getByTestId('cap-threads')).toContainText('yes');
  await expect(page.getByTestId('cap-webcodecs')).toHaveText('yes');
  await expect(page.getByTestId('cap-webgpu')).not.toHaveText('');
  await page.screenshot({ path: 'test-results/shell.png', fullPage: true });
});
