#!/usr/bin/env node
// The `vidkind` CLI. Runs the TypeScript sources directly through tsx, so that node-trainer and the
// browser share src/core without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
