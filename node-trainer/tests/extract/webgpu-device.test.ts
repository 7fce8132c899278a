/**
 * `vidkind extract --device webgpu`: onnxruntime-node's bundled WebGPU provider, here on SwiftShader
 * (SWIFTSHADER_ICD in test-models.ts; the test machines have no GPU). The features match the CPU
 * provider's; with no adapter the command fails with a clear message before it creates the store.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIndex, readItemFeatures } from '../../src/features/store.ts';
import { makeClip, makeModelsDir, SWIFTSHADER_ICD, TOY_SOURCES, vulkanEnv } from './test-models.ts';

const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidkind-webgpu-'));
  mkdirSync(join(dir, 'videos'));
  makeModelsDir(join(dir, 'models'));
  const lines = ['path,class,subclass,source'];
  for (const cls of ['animation', 'natural'] as const) {
    makeClip(join(dir, 'videos', `${cls}.mp4`), TOY_SOURCES[cls](1), 1);
    lines.push(`${cls}.mp4,${cls},,${cls}`);
  }
  writeFileSync(join(dir, 'labels.csv'), lines.join('\n') + '\n');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const extract = (out: string, device: string, icd: string) =>
  spawnSync(
    process.execPath,
    [CLI, 'extract', '--videos', join(dir, 'videos'), '--labels', join(dir, 'labels.csv'), '--models', join(dir, 'models')].concat([
      '--backbone',
      'tiny-test',
      '--frames',
      '4',
      '--out',
      join(dir, out),
      '--device',
      device,
    ]),
    { encoding: 'utf8', env: vulkanEnv(icd) },
  );

describe('vidkind extract --device webgpu', () => {
  it('gives the CPU provider features (float16 store) on a WebGPU adapter', () => {
    expect(existsSync(SWIFTSHADER_ICD)).toBe(true);
    const gpu = extract('gpu', 'webgpu', SWIFTSHADER_ICD);
    expect(gpu.status, gpu.stderr).toBe(0);
    const cpu = extract('cpu', 'cpu', SWIFTSHADER_ICD);
    expect(cpu.status, cpu.stderr).toBe(0);
    const items = readIndex(join(dir, 'gpu'));
    expect(items.map((i) => i.path).sort()).toEqual(['animation.mp4', 'natural.mp4']);
    for (const item of items) {
      const a = readItemFeatures(join(dir, 'gpu'), item.key);
      const b = readItemFeatures(join(dir, 'cpu'), item.key);
      expect(a.length).toBe(4 * 16);
      const scale = Math.max(...b.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      // float16 storage: ~1e-3 relative.
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(2e-3 * Math.max(1, scale)));
    }
  }, 180_000);

  it('fails with a clear message, and no store, when there is no WebGPU adapter', () => {
    const r = extract('none', 'webgpu', '/nonexistent/vulkan_icd.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/WebGPU provider found no usable GPU adapter/);
    expect(r.stderr).toMatch(/--device cpu/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  }, 60_000);
});
