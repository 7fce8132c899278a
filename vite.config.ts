import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

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
  plugins: [svelte()],
  base: './',
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', '@ffmpeg/ffmpeg', '@ffmpeg/util'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // diagnostics.html drives the decode and inference workers directly: used by the e2e tests and
    // by people who want to see what their browser does with a file, step by step.
    rollupOptions: { input: { main: 'index.html', diagnostics: 'diagnostics.html' } },
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders, port: 4173, strictPort: false },
});
