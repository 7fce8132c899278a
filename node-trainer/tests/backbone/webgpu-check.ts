/**
 * Manual check (not part of `npm test`: SwiftShader WebGPU takes minutes per model on a 2-core
 * machine): the shipped backbones run in onnxruntime-web's WebGPU provider in headless Chromium
 * and give the same embeddings as onnxruntime-node.
 *
 *   npx tsx node-trainer/tests/backbone/webgpu-check.ts [mobilenet-v2-1.0,mobilenet-v2-1.4]
 *
 * Needs Debian's chromium (/usr/lib/chromium/chromium). Seen 2026-11-25: max |diff| 3.1e-6 (1.0)
 * and 8.5e-6 (1.4) against onnxruntime-node on one real image.
 */
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { parityBatch } from '../../src/backbone/import-backbone.ts';
import { runOnnx, compareEmbeddings } from '../../src/backbone/parity.ts';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../../../src/core/manifest.ts';

const PAGE = `<!doctype html><html><body><script type="module">
import * as ort from '/ort/ort.webgpu.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
window.runModel = async (url, input, dims, ep) => {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const s = await ort.InferenceSession.create(bytes, { executionProviders: [ep], logSeverityLevel: 3 });
  const out = await s.run({ frames: new ort.Tensor('float32', Float32Array.from(input), dims) });
  return Array.from(out.embedding.data);
};
window.ready = true;
</script></body></html>
`;
const root = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const server = createServer((req, res) => {
  const u = req.url!.split('?')[0]!;
  if (u === '/') {
    res.setHeader('content-type', 'text/html');
    return res.end(PAGE);
  }
  const file = u.startsWith('/ort/') ? `${root}/node_modules/onnxruntime-web/dist/${u.slice(5)}` : `${root}/public${u}`;
  if (!existsSync(file)) {
    res.statusCode = 404;
    return res.end();
  }
  const type = file.endsWith('.html')
    ? 'text/html'
    : file.endsWith('.mjs')
      ? 'text/javascript'
      : file.endsWith('.wasm')
        ? 'application/wasm'
        : 'application/octet-stream';
  res.setHeader('content-type', type);
  res.end(readFileSync(file));
}).listen(0);
const port = (server.address() as { port: number }).port;
const browser = await chromium.launch({
  executablePath: '/usr/lib/chromium/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage();
page.on('console', (m) => console.log('page:', m.text().slice(0, 200)));
await page.goto(`http://localhost:${port}/`);
await page.waitForFunction('window.ready === true');
const m = parseManifest(JSON.parse(readFileSync(`${root}/public/models/manifest.json`, 'utf8')));
for (const id of (process.argv[2] ?? 'mobilenet-v2-1.0').split(',')) {
  const e = m.backbones.find((b) => b.id === id)!;
  const { batch } = parityBatch(e.input);
  const one = batch.slice(0, 224 * 224 * 3);
  const dims = [1, 224, 224, 3];
  const ref = await runOnnx(readFileSync(`${root}/public/models/${e.file}`), 'frames', 'embedding', one, dims);
  for (const ep of ['webgpu']) {
    const t = Date.now();
    const got = await page.evaluate(
      ([url, input, d, p]) => (globalThis as unknown as { runModel: (...a: unknown[]) => Promise<number[]> }).runModel(url, input, d, p),
      [`/models/${e.file}`, Array.from(one), dims, ep] as const,
    );
    console.log(id, ep, Date.now() - t, 'ms', JSON.stringify(compareEmbeddings(ref, Float32Array.from(got as number[]), e.output.dim)));
  }
}
await browser.close();
server.close();
