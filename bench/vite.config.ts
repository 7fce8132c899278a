/**
 * The site's own Vite config plus the bench driver page, built into bench/work/dist so that the
 * bench never races other builds of dist/. Same plugins, workers, headers (COOP/COEP) as `npm start`.
 */
import { mergeConfig } from 'vite';
import site from '../vite.config';

export default mergeConfig(site, {
  build: {
    outDir: process.env.VIDKIND_BENCH_DIST ?? 'bench/work/dist',
    emptyOutDir: true,
    rollupOptions: { input: { bench: 'bench/page/index.html' } },
  },
});
