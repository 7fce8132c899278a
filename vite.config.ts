import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * Cross-origin isolation (COOP/COEP) lets onnxruntime-web use WASM threads. The same headers are
 * sent by `npm start` (vite preview); the README shows them for common static hosts.
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  plugins: [
    svelte(),
    // Offline: a Workbox service worker precaches the whole build (incl. onnxruntime-web's wasm) and
    // public/models/**. Entries are revisioned by content hash, so a new build replaces what changed.
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{html,js,mjs,css,wasm,onnx,json,md,svg,png,ico}'],
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
  preview: { headers: isolationHeaders, port: 4173, strictPort: false },
});
