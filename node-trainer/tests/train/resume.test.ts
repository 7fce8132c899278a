import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHead, saveHead } from '../../src/head/checkpoint.ts';
import { headParamShapes } from '../../src/head/params.ts';
import { readHistory, readRunConfig } from '../../src/train/run-dir.ts';
import { Rng } from '../../src/train/rng.ts';
import { loadTrainState } from '../../src/train/state.ts';
import { waitFor, writeSyntheticStore } from './synthetic-store.ts';

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

function finalState(run: string): {
  blob: Buffer;
  state: { epoch: number; done: boolean; globalStep: number; history: Array<{ seconds: number }> };
} {
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

/** Epochs in the last checkpoint (0 before the first); state.json is written atomically, so it always parses. */
function checkpointedEpoch(run: string): number {
  const f = join(run, 'state', 'state.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { epoch: number }).epoch : 0;
}

/** A run directory after a kill: every file parses, the checkpoint's blob is whole, best/ loads; temp files are never referenced. */
function expectRunIntact(run: string): void {
  if (existsSync(join(run, 'config.json'))) readRunConfig(run);
  if (existsSync(join(run, 'history.json'))) readHistory(run);
  const state = join(run, 'state');
  if (existsSync(join(state, 'state.json'))) {
    const rc = readRunConfig(run);
    const sizes = headParamShapes(rc.head).map((s) => s.shape.reduce((a, b) => a * b, 1));
    const { state: st } = loadTrainState(state, sizes); // throws on a blob of the wrong size
    expect(st.blob).toMatch(/^ckpt-\d+-\d+\.bin$/);
    // A kill between a new blob and its state.json leaves that blob unreferenced (removed by the next save).
    expect(readdirSync(state)).toContain(st.blob);
  }
  if (existsSync(join(run, 'best', 'head.json'))) loadHead(join(run, 'best'));
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

  it('kill -9 at 3 seeded-random points, rerun each time: no corrupt file, no finished epoch redone, the same final run', async () => {
    const run = join(root, 'killed');
    // Seeded kill points, so that a failure reproduces.
    const rng = new Rng(20_251_126);
    const rand = () => rng.next();
    // One kill at a random moment of start-up (before or after config.json), then two after random
    // checkpointed epochs, each plus a random delay, so they land mid-epoch, mid-validation or mid-write.
    const after = [0, 1 + Math.floor(rand() * 3), 4 + Math.floor(rand() * 3)];
    const finishedSeconds: number[] = []; // `seconds` of each checkpointed epoch, as first saved
    let killed = 0;
    for (const epoch of after) {
      let exited = false;
      const code = await train(run, ['--config', config, '--resume'], (kill) => {
        void (async () => {
          while (!exited && checkpointedEpoch(run) < epoch) await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setTimeout(r, (epoch === 0 ? 1500 : 300) * rand()));
          kill('SIGKILL');
        })();
      }).finally(() => (exited = true));
      if (code === null) killed++;
      expectRunIntact(run);
      const history = existsSync(join(run, 'state', 'state.json')) ? finalState(run).state.history : [];
      // Epochs checkpointed before this kill were not trained again by the run that was killed.
      history.forEach((h, i) => (finishedSeconds[i] ??= h.seconds));
      expect(history.map((h) => h.seconds)).toEqual(finishedSeconds.slice(0, history.length));
    }
    expect(killed).toBe(3);
    expect(finishedSeconds.length).toBeGreaterThanOrEqual(after[2]!);
    expect(finalState(run).state.done).toBe(false);

    expect(await train(run, ['--config', config, '--resume'])).toBe(0);
    expectRunIntact(run);
    const a = finalState(reference);
    const b = finalState(run);
    expect(b.state.done).toBe(true);
    expect(b.state.globalStep).toBe(a.state.globalStep);
    expect(b.state.history.slice(0, finishedSeconds.length).map((h) => h.seconds)).toEqual(finishedSeconds);
    expect(maxDiff(a.blob, b.blob)).toBeLessThanOrEqual(1e-6);
    expect(
      maxDiff(readFileSync(join(reference, 'best', 'weights.bin')), readFileSync(join(run, 'best', 'weights.bin'))),
    ).toBeLessThanOrEqual(1e-6);
    expect(readFileSync(join(run, 'best', 'head.json'), 'utf8')).toBe(readFileSync(join(reference, 'best', 'head.json'), 'utf8'));
    expect(readFileSync(join(run, 'history.json'), 'utf8').replace(/"seconds": [\d.e-]+/g, '')).toBe(
      readFileSync(join(reference, 'history.json'), 'utf8').replace(/"seconds": [\d.e-]+/g, ''),
    );
  });

  it('a kill after the final checkpoint but before best/ is finished: the rerun finishes best/', async () => {
    const run = join(root, 'finishing');
    cpSync(reference, run, { recursive: true });
    // What a kill between the two last writes leaves: state says done, best/ still has its epoch's metadata.
    const best = loadHead(join(run, 'best'));
    saveHead(join(run, 'best'), { ...best.head, meta: { ...best.head.meta, epochsTrained: 1, stopped: undefined } }, best.weights);
    expect(await train(run, ['--config', config, '--resume'])).toBe(0);
    expect(loadHead(join(run, 'best')).head.meta).toMatchObject({ epochsTrained: 8, stopped: 'finished' });
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

  it('gives each member its own memberConfigs settings on top of the ensemble config, and refuses shared keys', async () => {
    const run = join(root, 'ensemble-mixed');
    const mixed = { ...JSON.parse(config), epochs: 2, memberConfigs: [{}, { head: 'stats', weightDecay: 0.5 }] };
    expect(await train(run, ['--config', JSON.stringify(mixed), '--members', '2'])).toBe(0);
    const c0 = readRunConfig(join(run, 'members/0')).train;
    const c1 = readRunConfig(join(run, 'members/1')).train;
    expect([c0.head, c0.weightDecay, c0.seed]).toEqual(['attention', 1e-2, 3]);
    expect([c1.head, c1.weightDecay, c1.seed]).toEqual(['stats', 0.5, 4]);
    expect(c1.memberConfigs).toBeUndefined();
    expect(readRunConfig(join(run, 'members/0')).split).toEqual(readRunConfig(join(run, 'members/1')).split);
    expect(loadHead(join(run, 'members/1/best')).head.config.kind).toBe('stats');
    for (const bad of [{ seed: 9 }, { weightDecay: -1 }, { wightDecay: 1 }])
      expect(
        await train(join(root, `ensemble-bad-${Object.keys(bad)[0]}`), [
          '--config',
          JSON.stringify({ ...mixed, memberConfigs: [bad] }),
          '--members',
          '2',
        ]),
      ).toBe(1);
  });
});
