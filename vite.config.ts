import { existsSync, readFileSync } from 'node:fs';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import type { Manifest } from './src/core/manifest.ts';
import { unusedModelFiles } from './src/core/model-files.ts';

/**
 * Cross-origin isolation (COOP/COEP) lets onnxruntime-web use WASM threads. The same headers are
 * sent by `npm start` (vite preview); the README shows them for common static hosts.
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The Content-Security-Policy: everything from the site's own origin and nothing else. The only
 * additions are what the app needs locally: 'wasm-unsafe-eval' to compile WebAssembly
 * (onnxruntime-web, ffmpeg.wasm), and blob:/data: for the thumbnails and the preview of the user's
 * own file. No 'unsafe-eval', no inline scripts, no connections beyond 'self'. Sent as a header by
 * `npm start` (vite preview) and injected as a <meta> tag into the built HTML for static hosts.
 * (frame-ancestors has no effect in a <meta> tag, so it is left to the host's headers.)
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Puts the CSP into every built HTML page as the first thing in <head>, before any script. */
function cspMetaTag(): Plugin {
  return {
    name: 'vidkind-csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy }, injectTo: 'head-prepend' },
      ],
    },
  };
}

/**
 * Model files in public/models that no ensemble of its manifest loads (today the MobileNetV2 1.4
 * backbone, kept for people's own ensembles: 4.7 MB). The offline precache leaves them out, so a
 * first visit does not download them; the site still serves them.
 */
function unusedModels(): string[] {
  const file = new URL('./public/models/manifest.json', import.meta.url);
  if (!existsSync(file)) return [];
  // Not validated here (zod stays out of the config); the app validates it when it loads.
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  return unusedModelFiles(manifest).map((f) => `models/${f}`);
}

export default defineConfig({
  plugins: [
    svelte(),
    cspMetaTag(),
    // Offline: a Workbox service worker precaches the whole build (incl. onnxruntime-web's wasm) and
    // the models its ensembles use. Entries are revisioned by content hash, so a new build replaces what changed.
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{html,js,mjs,css,wasm,onnx,json,md,svg,png,ico,mp4}'],
        globIgnores: ['**/node_modules/**/*', ...unusedModels()],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/diagnostics/],
      },
    }),
  ],
  base: './',
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', '@ffmpeg/ffmpeg', '@ffmpeg/util'] },
  build: {
    // VIDKIND_DIST lets one engineer's e2e run build and serve its own copy while others rebuild dist/.
    outDir: process.env.VIDKIND_DIST ?? 'dist',
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // diagnostics.html drives the decode and inference workers directly: used by the e2e tests and
    // by people who want to see what their browser does with a file, step by step.
    rollupOptions: { input: { main: 'index.html', diagnostics: 'diagnostics.html' } },
  },
  server: { headers: isolationHeaders },
  // The dev server (HMR over a websocket, injected styles) is left without the CSP; what ships has it.
  preview: { headers: { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy }, port: 4173, strictPort: false },
});
