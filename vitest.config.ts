import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'node-trainer/tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    // Set-up hooks do real work too (ffmpeg encodes, the >2 GiB sparse MP4s): 10 s, the default,
    // was too short for big-file.test.ts's on a loaded machine.
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
