// `npm test`: every test, in order of cost. Lint + typecheck, unit tests, fixtures, then e2e in Chromium.
import { spawnSync } from 'node:child_process';
import { ensureSystemDeps } from './system-deps.mjs';

ensureSystemDeps();

const steps = [
  ['lint', 'npm', ['run', 'lint']],
  ['fixtures', 'bash', ['scripts/make-fixtures.sh']],
  ['hostile', 'bash', ['scripts/make-hostile.sh']],
  ['unit', 'npx', ['vitest', 'run']],
  ['build', 'npx', ['vite', 'build', '--logLevel', 'warn']],
  ['e2e', 'npx', ['playwright', 'test']],
];
const only = process.argv.slice(2);
let failed = 0;
const summary = [];
for (const [name, cmd, args] of steps) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  summary.push(`${ok ? 'ok  ' : 'FAIL'} ${name} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (!ok) {
    failed++;
    if (name === 'fixtures' || name === 'hostile' || name === 'build') break; // later steps need these
  }
}
console.log(`\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
