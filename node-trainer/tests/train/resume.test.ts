import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHead } from '../../src/head/checkpoint.ts';
import { readRunConfig } from '../../src/train/run-dir.ts';
import { writeSyntheticStore } from './synthetic-store.ts';

const root = mkdtempSync(join(tmpdir(), 'vidkind-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bin = join(import.meta.dirname, '../../bin/vidkind.mjs');
const features = join(root, 'features');
writeSyntheticStore(features, { clipsPerSource: 4, sourcesPerClass: 5, frames: 8, dim: 16, seed: 1 });
const config = JSON.stringify({
  projDim: 16,
  lstmHidden: 8,
  lstmLayers: 2,
  attnHeads: 2,
  poolHidden: 8,
  epochs: 8,
  batch: 8,
  patience: 100,
  seed: 3,
});

function train(out: string, extra: string[] = [], onStart?: (kill: (sig: NodeJS.Signals) => void) => void): Promise<number | null> {
  const child = spawn(process.execPath, [bin, 'train', '--features', features, '--out', out, '--no-progress', ...extra], {
    stdio: 'ignore',
  });
  onStart?.((sig) => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ? null : code)));
}

/** Resolves once `file` exists (polling), so the test can interrupt a run right after a checkpoint. */
async function waitFor(file: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function finalState(run: string): { blob: Buffer; state: { epoch: number; done: boolean; globalStep: number } } {
  const state = JSON.parse(readFileSync(join(run, 'state', 'state.json'), 'utf8'));
  return { state, blob: readFileSync(join(run, 'state', state.blob)) };
}

function maxDiff(a: Buffer, b: Buffer): number {
  const x = new Float32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  const y = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe('train --resume', () => {
  const reference = join(root, 'reference');

  it('an uninterrupted run completes all epochs', async () => {
    expect(await train(reference, ['--config', config])).toBe(0);
    const { state } = finalState(reference);
    expect(state.done).toBe(true);
    expect(state.epoch).toBe(8);
    const { head } = loadHead(join(reference, 'best'));
    expect(head.meta.seed).toBe(3);
    const rc = readRunConfig(reference);
    expect(Object.keys(rc.split)).toHaveLength(80);
  });

  it('kill -9 after the first checkpoint, then --resume: the same final weights', async () => {
    const run = join(root, 'killed');
    const code = await train(
      run,
      ['--config', config],
      (kill) => void waitFor(join(run, 'state', 'state.json')).then(() => kill('SIGKILL')),
    );
    expect(code).toBeNull(); // killed by the signal, not finished
    expect(finalState(run).state.done).toBe(false);
    expect(await train(run, ['--resume'])).toBe(0);
    const a = finalState(reference);
    const b = finalState(run);
    expect(b.state.done).toBe(true);
    expect(b.state.globalStep).toBe(a.state.globalStep);
    expect(maxDiff(a.blob, b.blob)).toBeLessThanOrEqual(1e-6);
    expect(
      maxDiff(readFileSync(join(reference, 'best', 'weights.bin')), readFileSync(join(run, 'best', 'weights.bin'))),
    ).toBeLessThanOrEqual(1e-6);
    expect(readFileSync(join(run, 'history.json'), 'utf8').replace(/"seconds": [\d.e-]+/g, '')).toBe(
      readFileSync(join(reference, 'history.json'), 'utf8').replace(/"seconds": [\d.e-]+/g, ''),
    );
  });

  it('Ctrl-C checkpoints mid-run and exits 130; --resume then matches too', async () => {
    const run = join(root, 'interrupted');
    const code = await train(
      run,
      ['--config', config],
      (kill) => void waitFor(join(run, 'state', 'state.json')).then(() => kill('SIGINT')),
    );
    expect(code).toBe(130);
    expect(finalState(run).state.done).toBe(false);
    expect(await train(run, ['--resume'])).toBe(0);
    expect(maxDiff(finalState(reference).blob, finalState(run).blob)).toBeLessThanOrEqual(1e-6);
  });

  it('refuses to overwrite a run without --resume, and a different config on --resume', async () => {
    expect(await train(reference, ['--config', config])).toBe(1);
    expect(await train(reference, ['--resume', '--config', JSON.stringify({ epochs: 3 })])).toBe(1);
  });
});

describe('train --members', () => {
  it('trains an ensemble in worker threads, members sharing one split with different seeds', async () => {
    const run = join(root, 'ensemble');
    expect(await train(run, ['--config', config.replace('"epochs":8', '"epochs":2'), '--members', '2'])).toBe(0);
    const ens = JSON.parse(readFileSync(join(run, 'ensemble.json'), 'utf8'));
    expect(ens.members).toEqual(['members/0', 'members/1']);
    const m0 = loadHead(join(run, 'members/0/best'));
    const m1 = loadHead(join(run, 'members/1/best'));
    expect([m0.head.meta.seed, m1.head.meta.seed]).toEqual([3, 4]);
    expect(readRunConfig(join(run, 'members/0')).split).toEqual(readRunConfig(join(run, 'members/1')).split);
    expect(readRunConfig(join(run, 'members/0')).split).toEqual(readRunConfig(run).split);
    expect(m0.weights.get('cls/kernel')).not.toEqual(m1.weights.get('cls/kernel'));
  });
});
