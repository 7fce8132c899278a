#!/usr/bin/env node
// The `vidkind` CLI. Runs the TypeScript sources directly through tsx, so that node-trainer and the
// browser share src/core without a separate build step.
import { register } from 'tsx/esm/api';

register();
// Output piped into a reader that stops early (`vidkind classify dir | head -1`): end quietly, as
// Unix tools do, instead of an EPIPE stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
