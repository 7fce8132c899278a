// Makes sure the system tools npm cannot install are present: Debian's chromium (e2e tests) and
// ffmpeg (fixtures, node-trainer) and GNU time (memory of the hostile batch). Installs them with apt when running as root, else explains.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDED = [
  { bin: '/usr/lib/chromium/chromium', pkg: 'chromium' },
  { bin: 'ffmpeg', pkg: 'ffmpeg' },
  { bin: 'ffprobe', pkg: 'ffmpeg' },
  { bin: '/usr/bin/time', pkg: 'time' }, // peak-memory check of the hostile-input batch
];

function has(bin) {
  if (bin.startsWith('/')) return existsSync(bin);
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemDeps() {
  const missing = [...new Set(NEEDED.filter((n) => !has(n.bin)).map((n) => n.pkg))];
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  const apt = has('apt-get');
  if (!root || !apt) {
    console.error(
      `vidkind: please install these system packages first: ${missing.join(' ')} (e.g. sudo apt-get install ${missing.join(' ')})`,
    );
    process.exit(1);
  }
  console.log(`vidkind: installing ${missing.join(' ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing, 'fonts-dejavu-core'], { stdio: 'inherit', env });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemDeps();
