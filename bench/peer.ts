/**
 * The peer: the original PyTorch + OpenCV pipeline (../shared/peer, read-only), run on the same
 * clips in the same invocation. Debian's python3-torch/-torchvision/-opencv are installed with apt
 * when missing and we are root; torch is given OpenBLAS (extracted from Debian's
 * libopenblas0-pthread into bench/work, put first on LD_LIBRARY_PATH, no system change), as the
 * peer's run_all.sh does, because Debian's default reference BLAS would make the peer ~20x slower
 * and the comparison unfair to it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runChild, stats, tail, type Stats } from './stats.ts';
import type { MemoryPeak } from './memory.ts';

export const PYTHON = '/usr/bin/python3';

export interface PeerEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  blas: string;
  versions: Record<string, string>;
}

function pythonHasDeps(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch, torchvision, cv2'], { stdio: 'ignore' }).status === 0;
}

/** Finds the peer and its dependencies; returns a reason string when it cannot run. */
export function preparePeer(repoRoot: string, workDir: string, log: (s: string) => void): PeerEnv | string {
  const dir = resolve(repoRoot, '../shared/peer');
  if (!existsSync(join(dir, 'e2e_bench.py')))
    return `the peer scripts are not at ${dir} (expected ../shared/peer relative to the repository root)`;
  if (!existsSync(PYTHON)) return `${PYTHON} not found (the peer needs Debian's python3 with python3-torch)`;
  if (!pythonHasDeps()) {
    if (process.getuid?.() !== 0)
      return 'python3-torch, python3-torchvision or python3-opencv is missing and we are not root to apt-get install them';
    log('installing python3-torch python3-torchvision python3-opencv with apt (once; large)');
    const r = spawnSync(
      'apt-get',
      [
        '-o',
        'DPkg::Lock::Timeout=900',
        'install',
        '-y',
        '--no-install-recommends',
        'python3-torch',
        'python3-torchvision',
        'python3-opencv',
      ],
      { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
    );
    if (r.status !== 0 || !pythonHasDeps()) return 'apt-get install python3-torch python3-torchvision python3-opencv failed';
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '2' };
  let blas = 'reference BLAS (Debian default: libopenblas0-pthread could not be fetched)';
  const obDir = join(workDir, 'peer-openblas');
  const libDir = join(obDir, 'root/usr/lib/x86_64-linux-gnu/openblas-pthread');
  if (!existsSync(join(libDir, 'libblas.so.3'))) {
    mkdirSync(obDir, { recursive: true });
    spawnSync('apt-get', ['download', 'libopenblas0-pthread'], { cwd: obDir, stdio: 'ignore' });
    const deb = readdirSync(obDir).find((f) => f.startsWith('libopenblas0-pthread') && f.endsWith('.deb'));
    if (deb) spawnSync('dpkg-deb', ['-x', deb, 'root'], { cwd: obDir, stdio: 'ignore' });
  }
  if (existsSync(join(libDir, 'libblas.so.3'))) {
    env.LD_LIBRARY_PATH = [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    blas = 'OpenBLAS (libopenblas0-pthread, 2 threads)';
  }
  const v = spawnSync(
    PYTHON,
    [
      '-c',
      'import torch, torchvision, cv2, sys; print(torch.__version__, torchvision.__version__, cv2.__version__, sys.version.split()[0])',
    ],
    {
      env,
      encoding: 'utf8',
    },
  );
  const [torch = '?', torchvision = '?', opencv = '?', python = '?'] = v.stdout.trim().split(' ');
  return { dir, env, blas, versions: { torch, torchvision, opencv, python } };
}

export interface PeerE2E {
  mode: string;
  decode: Stats | null;
  preprocess: Stats | null;
  backbone: Stats | null;
  head: Stats | null;
  total: Stats | null;
  memory: MemoryPeak;
  raw: Record<string, unknown>[];
}

/** One clip to a verdict, the original way, `repeats` times per mode, in one Python process. */
export async function peerE2E(peer: PeerEnv, clip: string, modes: string[], repeats: number): Promise<Record<string, PeerE2E> | string> {
  const r = await runChild(
    PYTHON,
    [join(peer.dir, 'e2e_bench.py'), '--videos', Array(repeats).fill(clip).join(','), '--modes', modes.join(','), '--frames', '32'],
    { env: peer.env, timeoutMs: 20 * 60_000 },
  );
  const rows = r.lines.filter((l) => l.bench === 'e2e');
  if (rows.length === 0) return `e2e_bench.py produced no result (exit ${r.code}): ${tail(r.stderr)}`;
  const out: Record<string, PeerE2E> = {};
  for (const mode of modes) {
    const m = rows.filter((l) => l.mode === mode);
    const s = (k: string) => stats(m.map((l) => Number(l[k])));
    out[mode] = {
      mode,
      decode: s('decode_ms'),
      preprocess: s('preprocess_ms'),
      backbone: s('backbone_ms'),
      head: s('head_ms'),
      total: s('total_ms'),
      memory: r.memory,
      raw: m,
    };
  }
  return out;
}

export interface PeerTrain {
  stepS: Stats | null;
  inferMs: Stats | null;
  config: Record<string, unknown>;
  raw: Record<string, unknown>[];
}

/** The head's training step (B=32, T=32) and single-clip inference, in PyTorch. */
export async function peerTrain(peer: PeerEnv, variant: string, steps: number): Promise<PeerTrain | string> {
  const r = await runChild(
    PYTHON,
    [join(peer.dir, 'head_bench.py'), '--variants', variant, '--steps', String(steps), '--infer-runs', '20', '--no-epoch'],
    {
      env: peer.env,
      timeoutMs: 15 * 60_000,
    },
  );
  const step = r.lines.find((l) => l.bench === 'head_train_step');
  const infer = r.lines.find((l) => l.bench === 'head_infer');
  if (!step) return `head_bench.py produced no training step (exit ${r.code}): ${tail(r.stderr)}`;
  // head_bench prints median/min/max only: keep them as they are.
  const fromLine = (l: Record<string, unknown> | undefined, scale: number): Stats | null =>
    l
      ? { median: Number(l.median_ms) * scale, min: Number(l.min_ms) * scale, max: Number(l.max_ms) * scale, n: Number(l.runs), values: [] }
      : null;
  return {
    stepS: fromLine(step, 1 / 1000),
    inferMs: fromLine(infer, 1),
    config: { variant, d: step.d, hidden: step.hidden, layers: step.layers, params: step.params, threads: step.threads, blas: step.blas },
    raw: r.lines,
  };
}

/** Per-frame backbone speed of torchvision MobileNetV2 at batch 1 and 32, eager PyTorch. */
export async function peerBackbone(peer: PeerEnv): Promise<Record<string, unknown>[] | string> {
  const r = await runChild(
    PYTHON,
    [
      join(peer.dir, 'backbone_bench.py'),
      '--models',
      'mobilenet_v2',
      '--batches',
      '1,32',
      '--runs',
      '10',
      '--runs16',
      '3',
      '--no-ort',
      '--no-jit',
    ],
    { env: peer.env, timeoutMs: 10 * 60_000 },
  );
  const rows = r.lines.filter((l) => l.bench === 'backbone' && !l.error);
  if (rows.length === 0) return `backbone_bench.py produced no result (exit ${r.code}): ${tail(r.stderr)}`;
  return rows;
}
