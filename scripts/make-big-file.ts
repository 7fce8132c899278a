/**
 * Makes real, valid MP4 files larger than 2 GiB (and 4 GiB) that cost a few hundred KB of disk and
 * about a second each, for the "files larger than 2 GiB work" tests and benchmark.
 *
 * Recipe: Debian's ffmpeg encodes a small clip (4 s, 320x240, 25 fps); then a copy is written with a
 * large `free` box (64-bit largesize header) just before `mdat`, so that the media data sits beyond
 * 2^31 (or 2^32) bytes, and every chunk offset in `stco` is moved by the same amount (`stco` becomes
 * `co64` when an offset passes 2^32). The padding is never written: the file is created sparse (the
 * bytes after the free box's header are a hole that reads as zeros), so its apparent size is
 * gigabytes while its disk use is that of the small clip.
 *
 * The MP4 box patcher is hand-written: no library here rewrites chunk offsets around an inserted box
 * (mediabunny and mp4box.js remux whole files; neither writes a sparse file). It only handles what
 * ffmpeg's mov muxer writes for a progressive (non-fragmented) file.
 *
 * CLI: `node --import tsx scripts/make-big-file.ts [outDir]` writes the files of BIG_FILES there.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GiB = 2 ** 30;
const UINT32_LIMIT = 2 ** 32;

/** One big file: how its small source is encoded and where its media data starts. */
export interface BigFileRecipe {
  name: string;
  /** ffmpeg output arguments for the small source clip (input: 4 s of testsrc2, 320x240, 25 fps). */
  encode: string[];
  /** File offset of the `mdat` box in the big copy. */
  mdatAt: number;
}

/**
 * The files the tests use:
 * - big-h264.mp4: 2.3 GiB, moov at the end (a reader must seek past 2 GiB for the index); its
 *   chunk offsets lie in [2^31, 2^32), so a signed 32-bit offset goes negative. WebCodecs path.
 * - big-hevc.mp4: 4.3 GiB, moov first, co64 chunk offsets above 2^32. HEVC, which WebCodecs cannot
 *   decode here, so it reaches ffmpeg.wasm by the ordinary fallback.
 */
export const BIG_FILES: BigFileRecipe[] = [
  {
    name: 'big-h264.mp4',
    encode: ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25'],
    mdatAt: Math.round(2.3 * GiB),
  },
  {
    name: 'big-hevc.mp4',
    encode: [
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'log-level=error:keyint=25',
      '-pix_fmt',
      'yuv420p',
      '-tag:v',
      'hvc1',
      '-movflags',
      '+faststart',
    ],
    mdatAt: Math.round(4.3 * GiB),
  },
];

/** The small clip every big file is made from (also what a test compares the big file's frames to). */
export const SOURCE_INPUT = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4'];

interface Box {
  type: string;
  /** Offset of the box (its header) in the buffer it was read from. */
  start: number;
  headerSize: number;
  size: number;
}

/** Boxes whose payload is only child boxes, on the way from moov to the chunk offset tables. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

function readBoxes(buf: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const boxes: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(...buf.subarray(at + 4, at + 8));
    let headerSize = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      headerSize = 16;
    } else if (size === 0) size = to - at;
    if (size < headerSize || at + size > to) throw new Error(`bad MP4 box '${type}' at ${at} (size ${size})`);
    boxes.push({ type, start: at, headerSize, size });
    at += size;
  }
  if (at !== to) throw new Error(`trailing bytes after the last MP4 box at ${at}`);
  return boxes;
}

function boxBytes(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(payload, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A chunk offset table (stco or co64) with every offset moved by `delta`; co64 once any passes 2^32. */
function shiftedChunkOffsets(type: 'stco' | 'co64', payload: Uint8Array, delta: number): Uint8Array {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const count = view.getUint32(4);
  const width = type === 'stco' ? 4 : 8;
  if (payload.length !== 8 + count * width) throw new Error(`${type}: ${count} entries do not fit its ${payload.length} bytes`);
  const offsets = Array.from({ length: count }, (_, i) =>
    type === 'stco' ? view.getUint32(8 + 4 * i) + delta : Number(view.getBigUint64(8 + 8 * i)) + delta,
  );
  const wide = type === 'co64' || offsets.some((o) => o >= UINT32_LIMIT);
  const out = new Uint8Array(8 + count * (wide ? 8 : 4));
  const w = new DataView(out.buffer);
  w.setUint32(0, view.getUint32(0)); // version and flags
  w.setUint32(4, count);
  offsets.forEach((o, i) => (wide ? w.setBigUint64(8 + 8 * i, BigInt(o)) : w.setUint32(8 + 4 * i, o)));
  return boxBytes(wide ? 'co64' : 'stco', out);
}

/** A box (and its subtree) re-serialised with every chunk offset moved by `delta`. */
function shiftedBox(buf: Uint8Array, box: Box, delta: number): Uint8Array {
  const payload = buf.subarray(box.start + box.headerSize, box.start + box.size);
  if (box.type === 'stco' || box.type === 'co64') return shiftedChunkOffsets(box.type, payload, delta);
  if (!CONTAINERS.has(box.type)) return buf.subarray(box.start, box.start + box.size);
  const children = readBoxes(buf, box.start + box.headerSize, box.start + box.size).map((c) => shiftedBox(buf, c, delta));
  return boxBytes(box.type, concat(children));
}

/** Where a big copy's bytes go: `head` at 0, `tail` at `tailAt`; the gap between is the sparse hole. */
export interface BigLayout {
  head: Uint8Array;
  tail: Uint8Array;
  tailAt: number;
  size: number;
}

/**
 * Lays out a copy of a progressive MP4 whose `mdat` box starts at `mdatAt`, with a `free` box
 * (64-bit header) filling the gap before it and the chunk offsets patched to match.
 */
export function layoutBigMp4(source: Uint8Array, mdatAt: number): BigLayout {
  const top = readBoxes(source, 0, source.length);
  const mdats = top.filter((b) => b.type === 'mdat');
  if (mdats.length !== 1 || !top.some((b) => b.type === 'moov')) throw new Error('expected one moov and one mdat (a progressive MP4)');
  if (top.some((b) => b.type === 'moof')) throw new Error('fragmented MP4 is not supported');
  const mdat = mdats[0]!;
  const delta = mdatAt - mdat.start;
  const bytesOf = (b: Box) => (b.type === 'moov' ? shiftedBox(source, b, delta) : source.subarray(b.start, b.start + b.size));
  const before = concat(top.filter((b) => b.start < mdat.start).map(bytesOf));
  const after = concat(top.filter((b) => b.start >= mdat.start).map(bytesOf));
  const freeSize = mdatAt - before.length;
  if (freeSize < 16) throw new Error(`mdatAt ${mdatAt} leaves no room for the padding box`);
  const freeHeader = new Uint8Array(16);
  const fh = new DataView(freeHeader.buffer);
  fh.setUint32(0, 1); // size 1: the real size follows as a 64-bit largesize
  freeHeader.set(new TextEncoder().encode('free'), 4);
  fh.setBigUint64(8, BigInt(freeSize));
  return { head: concat([before, freeHeader]), tail: after, tailAt: mdatAt, size: mdatAt + after.length };
}

/** Writes a layout as a sparse file (only head and tail are written), atomically. */
export function writeSparse(layout: BigLayout, out: string): void {
  const tmp = `${out}.part`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, layout.head, 0, layout.head.length, 0);
    writeSync(fd, layout.tail, 0, layout.tail.length, layout.tailAt);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
}

/** Encodes the small source clip of a recipe with native ffmpeg. */
export function encodeSource(recipe: BigFileRecipe, out: string): void {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...SOURCE_INPUT, ...recipe.encode, out];
  const r = spawnSync('nice', ['-n', '10', 'ffmpeg', ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed making ${out}: ${r.stderr || r.error?.message}`);
}

/** Makes every file of BIG_FILES in `dir` (and keeps the small sources as `source-<name>` when asked). */
export function makeBigFiles(dir: string, options: { keepSources?: boolean } = {}): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'vidkind-big-'));
  const made: Record<string, string> = {};
  try {
    for (const recipe of BIG_FILES) {
      const source = path.join(options.keepSources ? dir : work, `source-${recipe.name}`);
      encodeSource(recipe, source);
      const out = path.join(dir, recipe.name);
      writeSparse(layoutBigMp4(readFileSync(source), recipe.mdatAt), out);
      made[recipe.name] = out;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return made;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? 'tests/fixtures/media');
  for (const file of Object.values(makeBigFiles(dir))) {
    const st = statSync(file);
    console.log(`${file}: ${(st.size / GiB).toFixed(2)} GiB apparent, ${((st.blocks * 512) / 1024).toFixed(0)} KiB on disk`);
  }
}
