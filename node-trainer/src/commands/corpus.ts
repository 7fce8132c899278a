/** `vidkind corpus build`: builds the default training corpus from real media in Debian packages. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const BUILD_SH = fileURLToPath(new URL('../../corpus/build.sh', import.meta.url));

/** Registers `vidkind corpus build` (a front for node-trainer/corpus/build.sh). */
export function register(program: Command): void {
  const corpus = program
    .command('corpus')
    .description('Build the training corpus of the default models from media that Debian packages ship.');
  corpus
    .command('build')
    .description('Install the packages (apt, as root), capture and render the media, cut clips, write labels.csv and provenance.json.')
    .requiredOption('--out <dir>', 'output directory (not committed)')
    .option('--quick', 'about 110 clips per class, for a first look', false)
    .option('--per-class <n>', 'clips per class (default 400, or 110 with --quick)')
    .option('--seed <text>', 'seed of every random choice', 'vidkind-corpus-v1')
    .option('--no-install', 'do not run apt-get for missing packages')
    .option('--no-capture', 'skip live captures under Xvfb')
    .action(async (o: { out: string; quick: boolean; perClass?: string; seed: string; install: boolean; capture: boolean }) => {
      const args = ['--out', o.out, '--seed', o.seed];
      if (o.quick) args.push('--quick');
      if (o.perClass) args.push('--per-class', o.perClass);
      if (!o.install) args.push('--no-install');
      if (!o.capture) args.push('--no-capture');
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('bash', [BUILD_SH, ...args], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? 1));
      });
      if (code !== 0) process.exitCode = code;
    });
  corpus
    .command('real-videos')
    .description(
      'Download the real videos of the check set (node-trainer/corpus/real-videos.ts: camera footage, animation, play and screen ' +
        'recordings that Debian packages ship, none of them a training source) with apt-get download, and write labels.csv for `vidkind check`.',
    )
    .requiredOption('--out <dir>', 'output directory (not committed)')
    .action(async (o: { out: string }) => {
      const { buildRealVideos } = await import('../../corpus/real-videos.ts');
      buildRealVideos(resolve(o.out));
    });
}
