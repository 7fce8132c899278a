/**
 * Reads a TF.js model (Keras layers model or graph model) from disk: a directory with model.json and
 * its weight shards, or nsfwjs-style bundles where model.min.js and group*-shard*.min.js are
 * CommonJS modules holding the JSON and base64 shards. Weights are dequantised to float32 here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
}

export interface TfjsWeight {
  shape: number[];
  data: Float32Array;
  /** Set for uint8 affine quantisation: value = q * scale + min. */
  grid?: { min: number; scale: number };
}

export interface TfjsModel {
  format: 'layers' | 'graph';
  /** model.json's modelTopology. */
  topology: Record<string, unknown>;
  weightSpecs: TfjsWeightSpec[];
  /** The weight bytes as stored (quantised), in weightSpecs order: what TF.js itself loads. */
  weightData: Uint8Array;
  weights: Map<string, TfjsWeight>;
  /** Where it came from: the directory, and the npm package around it if any. */
  dir: string;
  pkg?: { name: string; version: string; licence?: string; root: string };
}

/** Finds the model directory: a path, or a path inside an installed package (`nsfwjs/dist/models/mobilenet_v2`). */
export function resolveModelDir(spec: string, from = process.cwd()): string {
  const direct = resolve(from, spec);
  if (existsSync(direct)) return statSync(direct).isDirectory() ? direct : dirname(direct);
  for (let d = from; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', spec);
    if (existsSync(candidate)) return statSync(candidate).isDirectory() ? candidate : dirname(candidate);
    if (dirname(d) === d) break;
  }
  throw new Error(`No TF.js model at "${spec}": give a directory with model.json (or model.min.js) and its weight shards.`);
}

function findPackage(dir: string): TfjsModel['pkg'] {
  for (let d = dir; dirname(d) !== d; d = dirname(d)) {
    const file = join(d, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string; license?: string };
    // Nested package.json files that only set "type" are not the package.
    if (pkg.name && pkg.version) return { name: pkg.name, version: pkg.version, licence: pkg.license, root: d };
  }
  return undefined;
}

const requireCjs = createRequire(import.meta.url);

function loadModelJson(dir: string): {
  modelTopology: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: TfjsWeightSpec[] }>;
} {
  const json = join(dir, 'model.json');
  if (existsSync(json)) return JSON.parse(readFileSync(json, 'utf8'));
  const bundle = join(dir, 'model.min.js');
  if (existsSync(bundle)) return requireCjs(bundle);
  throw new Error(`${dir} has no model.json or model.min.js: not a TF.js model directory.`);
}

function loadShard(dir: string, path: string): Uint8Array {
  const bin = join(dir, path);
  if (existsSync(bin)) return new Uint8Array(readFileSync(bin));
  const bundle = join(dir, `${path}.min.js`);
  if (existsSync(bundle)) {
    const b64 = requireCjs(bundle) as unknown;
    if (typeof b64 !== 'string') throw new Error(`${bundle} does not hold a base64 weight shard.`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  const listing = readdirSync(dir).join(', ');
  throw new Error(`Weight shard "${path}" is missing from ${dir} (found: ${listing}).`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Loads model topology and weights; weights dequantised to float32 (the grid kept for uint8). */
export function loadTfjsModel(spec: string): TfjsModel {
  const dir = resolveModelDir(spec);
  const json = loadModelJson(dir);
  const topology = json.modelTopology;
  if (!topology || !json.weightsManifest) throw new Error(`${dir}: model JSON has no modelTopology/weightsManifest.`);
  const format = 'node' in topology ? 'graph' : 'model_config' in topology || 'config' in topology ? 'layers' : undefined;
  if (!format) throw new Error(`${dir}: unrecognised TF.js model topology (neither a layers model nor a graph model).`);
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => loadShard(dir, p)));
  const total = shards.reduce((n, s) => n + s.length, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const s of shards) {
    weightData.set(s, o);
    o += s.length;
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const weights = new Map<string, TfjsWeight>();
  const view = new DataView(weightData.buffer);
  let off = 0;
  for (const w of weightSpecs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization;
    const per = BYTES[q ? q.dtype : w.dtype];
    if (!per) throw new Error(`${dir}: weight "${w.name}" has unsupported dtype ${q?.dtype ?? w.dtype}.`);
    if (off + n * per > total) throw new Error(`${dir}: weight shards are shorter than the manifest says (at "${w.name}").`);
    const data = new Float32Array(n);
    let grid: TfjsWeight['grid'];
    if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
      const min = q.min ?? 0;
      const scale = q.scale ?? 1;
      for (let i = 0; i < n; i++) data[i] = (q.dtype === 'uint8' ? weightData[off + i]! : view.getUint16(off + 2 * i, true)) * scale + min;
      if (q.dtype === 'uint8') grid = { min, scale };
    } else if (q?.dtype === 'float16') {
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(off + 2 * i, true));
    } else if (w.dtype === 'float32') {
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(off + 4 * i, true);
    } else if (w.dtype === 'int32') {
      for (let i = 0; i < n; i++) data[i] = view.getInt32(off + 4 * i, true);
    } else {
      for (let i = 0; i < n; i++) data[i] = weightData[off + i]!;
    }
    weights.set(w.name, { shape: w.shape, data, grid });
    off += n * per;
  }
  return { format, topology, weightSpecs, weightData, weights, dir, pkg: findPackage(dir) };
}
