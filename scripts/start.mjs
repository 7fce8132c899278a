// `npm start`: build the static site if the sources changed since the last build, then serve dist/
// (with the bundled models) on localhost with COOP/COEP headers, via `vite preview`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['index.html', 'src', 'workers', 'public', 'vite.config.ts', 'package.json'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

const stamp = 'dist/.build-stamp';
const newest = Math.max(...SOURCES.map(newestMtime));
const built = existsSync(stamp) ? Number(readFileSync(stamp, 'utf8')) : 0;
if (!existsSync('dist/index.html') || newest > built) {
  console.log('vidkind: building the site…');
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, String(newest));
}
const port = process.env.PORT ?? '4173';
console.log(`vidkind: serving dist/ with COOP/COEP headers. Open the printed URL; Ctrl-C stops.`);
const r = spawnSync('npx', ['vite', 'preview', '--port', port, '--host', process.env.HOST ?? 'localhost'], { stdio: 'inherit' });
process.exit(r.status ?? 0);
