/**
 * The decode worker in real Chromium: every fixture clip (scripts/make-fixtures.sh) through the
 * WebCodecs path and the ffmpeg.wasm path, bad files, cancellation, and recovery afterwards.
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// The shapes src/diagnostics/decode.ts returns (restated: e2e specs compile apart from the app).
interface ErrorInfo {
  code: string;
  message: string;
}
type Outcome<T> = T | { error: ErrorInfo };
interface FrameSummary {
  index: number;
  timestamp: number;
  actualTimestamp: number;
  attempt: number;
  shifts: number[];
  width: number;
  height: number;
  checksum: string;
  grid: number[];
  rgb: number[];
}
interface VideoInfo {
  durationS: number;
  width: number;
  height: number;
  rotation: number;
  frameRate?: number;
  frameCount?: number;
  codec: string;
  container: string;
  decoder: 'webcodecs' | 'ffmpeg';
}
interface DecodeSummary {
  info: VideoInfo;
  decoder: VideoInfo['decoder'];
  timestamps: number[];
  unique: number[];
  plans: number[][];
  frames: FrameSummary[];
  replacedFrames: number;
  progress: { done: number; total: number }[];
  timingsMs: Record<string, number>;
  skippedPackets: number;
  copiedFrames: number;
  ffmpegRuns: number;
}
interface Request {
  frames: number;
  shifts?: number[];
  maxSide?: number;
  forceDecoder?: VideoInfo['decoder'];
  skipDisposable?: boolean;
  rgba?: 'copy' | 'canvas';
}
/** window.vidkindDiagnostics.decode, as seen from page.evaluate. */
interface DecodeDiagnostics {
  fileFromUrl(url: string): Promise<File>;
  probe(file: File): Promise<Outcome<VideoInfo>>;
  decodeSummary(file: File, request: Request): Promise<Outcome<DecodeSummary>>;
  decodeAndCancel(
    file: File,
    request: Request,
    afterFrames: number,
  ): Promise<{ error: ErrorInfo | null; framesBeforeAbort: number; abortToRejectMs: number | null }>;
}
type PageWindow = { vidkindDiagnostics: { decode: DecodeDiagnostics } };

const MEDIA = path.resolve('tests/fixtures/media');
const HOSTILE = path.resolve('tests/fixtures/hostile');

test.beforeAll(() => {
  if (!existsSync(path.join(MEDIA, 'h264.mp4'))) throw new Error('Fixtures missing: run `npm run fixtures` first.');
});

test.beforeEach(async ({ page }) => {
  await page.route('**/__fixtures/*', (route) =>
    route.fulfill({ path: path.join(MEDIA, path.basename(new URL(route.request().url()).pathname)) }),
  );
  await page.route('**/__hostile/*', (route) =>
    route.fulfill({ path: path.join(HOSTILE, path.basename(new URL(route.request().url()).pathname)) }),
  );
  await page.goto('/diagnostics.html');
  await expect(page.locator('#log')).toHaveText('ready');
});

/** Decodes a fixture of tests/fixtures/media, or with `dir` 'hostile' one of tests/fixtures/hostile. */
function decode(page: Page, name: string, request: Request, dir: 'fixtures' | 'hostile' = 'fixtures'): Promise<Outcome<DecodeSummary>> {
  return page.evaluate(
    async ([name, request, dir]) => {
      const d = (window as unknown as PageWindow).vidkindDiagnostics.decode;
      return d.decodeSummary(await d.fileFromUrl(`/__${dir}/${name}`), request);
    },
    [name, request, dir] as const,
  );
}

function ok(outcome: Outcome<DecodeSummary>): DecodeSummary {
  if ('error' in outcome) throw new Error(`decode failed: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome;
}

interface Expectation {
  width: number;
  height: number;
  /** Which path opens it without forcing; null: either (depends on this browser's codecs). */
  decoder: VideoInfo['decoder'] | null;
  durationS: number;
  rotation?: number;
  /** Largest gap between a requested time and the decoded frame's time. */
  tolerance?: number;
}

const good: Record<string, Expectation> = {
  'h264.mp4': { width: 320, height: 240, decoder: 'webcodecs', durationS: 4 },
  'vp9.webm': { width: 320, height: 240, decoder: 'webcodecs', durationS: 4 },
  'av1.mp4': { width: 320, height: 240, decoder: 'webcodecs', durationS: 4 },
  'h264.mov': { width: 320, height: 240, decoder: 'webcodecs', durationS: 4 },
  'h264.m2ts': { width: 320, height: 240, decoder: null, durationS: 4 },
  'hevc.mkv': { width: 320, height: 240, decoder: 'ffmpeg', durationS: 4 },
  'mpeg4.avi': { width: 320, height: 240, decoder: 'ffmpeg', durationS: 4 },
  'h264.flv': { width: 320, height: 240, decoder: 'ffmpeg', durationS: 4 },
  'h263.3gp': { width: 176, height: 144, decoder: 'ffmpeg', durationS: 4, tolerance: 0.07 },
  'mpeg2.mpg': { width: 320, height: 240, decoder: 'ffmpeg', durationS: 4 },
  'anim.gif': { width: 160, height: 120, decoder: 'ffmpeg', durationS: 4, tolerance: 0.1 },
  // No ftyp, MPEG audio first in its media data: mediabunny takes it for MP3 (scripts/make-fixtures.sh).
  'quicktime-audio-first.mov': { width: 320, height: 240, decoder: 'ffmpeg', durationS: 4 },
  'portrait.mp4': { width: 180, height: 320, decoder: 'webcodecs', durationS: 4 },
  // Its matrix says: turn 90 degrees counter-clockwise (ffprobe "rotation=90"), i.e. 270 clockwise.
  'rotated.mp4': { width: 240, height: 320, decoder: 'webcodecs', durationS: 4, rotation: 270 },
  'odd.webm': { width: 321, height: 241, decoder: 'webcodecs', durationS: 4 },
  'vp9-10bit.webm': { width: 320, height: 240, decoder: null, durationS: 4 },
  'h264-10bit.mp4': { width: 320, height: 240, decoder: null, durationS: 4 },
  'vfr.mp4': { width: 320, height: 240, decoder: 'webcodecs', durationS: 4, tolerance: 0.1 },
};

function checkSummary(s: DecodeSummary, e: Expectation, frames: number, label: string) {
  const tolerance = e.tolerance ?? 0.045;
  expect(s.info.width, label).toBe(e.width);
  expect(s.info.height, label).toBe(e.height);
  expect(s.info.rotation, label).toBe(e.rotation ?? 0);
  expect(Math.abs(s.info.durationS - e.durationS), `${label} duration ${s.info.durationS}`).toBeLessThan(0.15);
  expect(s.timestamps, label).toHaveLength(frames);
  expect(s.frames, label).toHaveLength(s.unique.length);
  expect(s.progress.at(-1), label).toEqual({ done: s.unique.length, total: s.unique.length });
  for (const [i, f] of s.frames.entries()) {
    expect(f.index, label).toBe(i);
    expect(f.timestamp, label).toBe(s.unique[i]);
    expect([f.width, f.height], `${label} frame ${i}`).toEqual([e.width, e.height]);
    expect(
      Math.abs(f.actualTimestamp - f.timestamp),
      `${label} frame ${i}: asked ${f.timestamp}, got ${f.actualTimestamp}`,
    ).toBeLessThanOrEqual(tolerance);
  }
  // Frames at different times of a moving test pattern differ.
  expect(new Set(s.frames.map((f) => f.checksum)).size, label).toBeGreaterThan(s.frames.length / 2);
}

for (const [name, e] of Object.entries(good)) {
  test(`decodes ${name} on its default path and on ffmpeg.wasm`, async ({ page }) => {
    const auto = ok(await decode(page, name, { frames: 8 }));
    if (e.decoder) expect(auto.decoder).toBe(e.decoder);
    checkSummary(auto, e, 8, `${name} (${auto.decoder})`);
    if (auto.decoder === 'webcodecs') {
      const forced = await decode(page, name, { frames: 8, forceDecoder: 'ffmpeg' });
      if (name === 'av1.mp4') {
        // ffmpeg.wasm 0.12's core has no software AV1 decoder: a clear error, not garbage.
        expect('error' in forced && forced.error.code, JSON.stringify(forced).slice(0, 300)).toBe('unsupported-codec');
        return;
      }
      const ff = ok(forced);
      expect(ff.decoder).toBe('ffmpeg');
      checkSummary(ff, e, 8, `${name} (forced ffmpeg)`);
      expect(ff.unique).toEqual(auto.unique);
      expect(auto.ffmpegRuns).toBe(0);
      // A 4 s clip is read through once, several samples per ffmpeg run (plus retries where a
      // container's seek overshoots), not one run per sample.
      expect(ff.ffmpegRuns, `${name}: ffmpeg runs for ${ff.frames.length} frames`).toBeLessThan(ff.frames.length);
      // Same frames, decoded and converted by different code: close, not identical.
      for (const [i, f] of ff.frames.entries()) {
        const w = auto.frames[i]!;
        const diff = f.grid.reduce((sum, v, k) => sum + Math.abs(v - w.grid[k]!), 0) / f.grid.length;
        expect(diff, `${name} frame ${i}: webcodecs vs ffmpeg mean grid difference`).toBeLessThan(8);
      }
    }
  });
}

test('VFR timestamps land on real frames (10 fps, then 30 fps), without snapping to a fake rate', async ({ page }) => {
  const s = ok(await decode(page, 'vfr.mp4', { frames: 16 }));
  expect(s.info.frameRate).toBeUndefined();
  for (const f of s.frames) {
    const step = f.actualTimestamp < 2 ? 0.1 : 1 / 30;
    const offGrid = Math.abs(f.actualTimestamp / step - Math.round(f.actualTimestamp / step));
    expect(offGrid, `frame at ${f.actualTimestamp}`).toBeLessThan(0.02);
  }
});

test('rotation metadata turns the pixels on both paths (rotated.mp4 is h264.mov plus a 270-degree matrix)', async ({ page }) => {
  const upright = ok(await decode(page, 'h264.mov', { frames: 4 }));
  for (const forceDecoder of [undefined, 'ffmpeg'] as const) {
    const turned = ok(await decode(page, 'rotated.mp4', { frames: 4, forceDecoder }));
    for (const [i, f] of turned.frames.entries()) {
      const g = upright.frames[i]!.grid;
      // 270 degrees clockwise: the upright frame's right column becomes the top row.
      const expected = f.grid.map((_, k) => g[(k % 4) * 4 + (3 - Math.floor(k / 4))]!);
      const diff = f.grid.reduce((sum, v, k) => sum + Math.abs(v - expected[k]!), 0) / 16;
      expect(diff, `${forceDecoder ?? 'webcodecs'} frame ${i}`).toBeLessThan(8);
    }
  }
});

test('a video track that ends before its file: samples past its last frame get the frame before, as native ffmpeg gives them', async ({
  page,
}) => {
  // 3 s of MPEG-4 video, 4.5 s of audio; Matroska states only the file's duration (4.5 s).
  const s = ok(await decode(page, 'video-shorter-than-audio.mkv', { frames: 16 }));
  expect(s.decoder).toBe('ffmpeg');
  expect(s.info.durationS).toBeGreaterThan(4);
  expect(s.frames.map((f) => f.index)).toEqual(s.unique.map((_, i) => i));
  const within = s.frames.filter((f) => f.timestamp < 3);
  const past = s.frames.filter((f) => f.timestamp >= 3);
  expect(past.length).toBeGreaterThan(2);
  const last = within.at(-1)!;
  expect(last.actualTimestamp).toBeLessThan(3);
  for (const f of past) expect([f.actualTimestamp, f.checksum]).toEqual([last.actualTimestamp, last.checksum]);
  // Within the video, every sample is its own frame.
  expect(new Set(within.map((f) => f.actualTimestamp)).size).toBe(within.length);
});

test('a one-frame video yields that frame for the whole plan', async ({ page }) => {
  for (const forceDecoder of [undefined, 'ffmpeg'] as const) {
    const s = ok(await decode(page, 'one-frame.mp4', { frames: 16, forceDecoder }));
    expect(s.timestamps).toHaveLength(16);
    expect(s.unique).toEqual([0]);
    expect(s.frames.map((f) => [f.actualTimestamp, f.width, f.height])).toEqual([[0, 320, 240]]);
  }
});

test('TTA shifts add plans whose union is decoded once; maxSide caps the frame size on both paths', async ({ page }) => {
  for (const forceDecoder of [undefined, 'ffmpeg'] as const) {
    const s = ok(await decode(page, 'h264.mp4', { frames: 4, shifts: [-0.25, 0.25], maxSide: 160, forceDecoder }));
    expect(s.plans).toHaveLength(3);
    expect(s.unique).toEqual([...new Set(s.plans.flat())].sort((a, b) => a - b));
    expect(s.unique.length).toBe(12);
    for (const f of s.frames) expect([f.width, f.height]).toEqual([160, 120]);
    // Each frame names the shifts whose plans sample it: the classifier runs its spatial views on those alone.
    const shifts = [0, -0.25, 0.25];
    for (const f of s.frames) expect(f.shifts, `${f.timestamp}`).toEqual(shifts.filter((_, k) => s.plans[k]!.includes(f.timestamp)));
    expect(
      s.frames.every((f) => f.shifts.length === 1),
      'a quarter spacing apart, no two plans share a frame',
    ).toBe(true);
  }
});

test('disposable H.264 frames are left out on the way to a sample, and every frame is the same as a full decode', async ({ page }) => {
  // h264.mp4 (AVCC) and h264.m2ts (Annex B): 100 frames, 48 of them disposable (ffmpeg -skip_frame noref decodes 52).
  for (const name of ['h264.mp4', 'h264.m2ts']) {
    const request = { frames: 8, shifts: [-0.3, 0.3], forceDecoder: 'webcodecs' as const };
    const skipping = ok(await decode(page, name, request));
    const full = ok(await decode(page, name, { ...request, skipDisposable: false }));
    expect(full.skippedPackets, name).toBe(0);
    expect(skipping.skippedPackets, name).toBeGreaterThan(0);
    expect(skipping.skippedPackets, name).toBeLessThanOrEqual(48);
    expect(skipping.unique, name).toEqual(full.unique);
    expect(
      skipping.frames.map((f) => [f.actualTimestamp, f.checksum]),
      name,
    ).toEqual(full.frames.map((f) => [f.actualTimestamp, f.checksum]));
  }
});

/** Mean R, G, B of a 4x4 grid over an RGBA frame, as src/diagnostics/decode.ts rgbGrid computes it. */
function rgbGrid(data: Buffer, width: number, height: number): number[] {
  const sums = new Float64Array(48);
  const counts = new Float64Array(16);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const cell = Math.min(3, Math.floor((y * 4) / height)) * 4 + Math.min(3, Math.floor((x * 4) / width));
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) sums[cell * 3 + c]! += data[p + c]!;
      counts[cell]! += 1;
    }
  return Array.from(sums, (s, i) => s / counts[Math.floor(i / 3)]!);
}

/** Native ffmpeg's RGBA frame at `t` (what node-trainer decodes for training), with an optional forced input matrix. */
function ffmpegGrid(name: string, t: number, width: number, height: number, matrix?: string): number[] {
  const vf = [`scale=${width}:${height}:flags=area`, ...(matrix ? [`in_color_matrix=${matrix}`] : [])].join(':');
  const rgba = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-ss', String(t), '-i', path.join(MEDIA, name), '-frames:v', '1', '-vf', vf, '-pix_fmt', 'rgba', '-f', 'rawvideo', '-'],
    { maxBuffer: 64 << 20 },
  );
  return rgbGrid(rgba, width, height);
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('video that names no YCbCr matrix gets the colours native ffmpeg (the training decoder) gives it: BT.601, not BT.709', async ({
  page,
}) => {
  for (const name of ['h264.mp4', 'vp9.webm', 'rotated.mp4']) {
    const s = ok(await decode(page, name, { frames: 2, forceDecoder: 'webcodecs' }));
    for (const f of s.frames) {
      const label = `${name} at ${f.actualTimestamp}`;
      // Within a level or two of ffmpeg (scalers differ), and far from the BT.709 colours Chromium would give.
      expect(maxDiff(f.rgb, ffmpegGrid(name, f.actualTimestamp, f.width, f.height)), label).toBeLessThan(3);
      expect(maxDiff(f.rgb, ffmpegGrid(name, f.actualTimestamp, f.width, f.height, 'bt709')), label).toBeGreaterThan(15);
    }
  }
});

test('frames converted without a canvas match what a canvas draws, and BT.709 video gets the colours ffmpeg gives it, rotated and downscaled too', async ({
  page,
}) => {
  // Converted: 8-bit 4:2:0 frames that need no rotation or resize; these name no YCbCr matrix (BT.601).
  const untagged = ['h264.mp4', 'vp9.webm', 'av1.mp4', 'h264.mov', 'odd.webm', 'portrait.mp4', 'vfr.mp4'];
  // vp9-10bit.webm: converted or drawn, by the pixel format this Chromium's decoder gives (8-bit I420 in 156).
  for (const name of [...untagged, 'bt709.mp4', 'rotated.mp4', 'vp9-10bit.webm']) {
    const request = { frames: 4, forceDecoder: 'webcodecs' as const };
    const copy = ok(await decode(page, name, request));
    const canvas = ok(await decode(page, name, { ...request, rgba: 'canvas' }));
    expect(canvas.copiedFrames, name).toBe(0);
    if (name !== 'vp9-10bit.webm') expect(copy.copiedFrames, name).toBe(name === 'rotated.mp4' ? 0 : copy.frames.length);
    expect(
      copy.frames.map((f) => [f.actualTimestamp, f.width, f.height]),
      name,
    ).toEqual(canvas.frames.map((f) => [f.actualTimestamp, f.width, f.height]));
    if (name === 'bt709.mp4') continue;
    for (const [i, f] of copy.frames.entries()) {
      // Both BT.601 through the browser's conversion here (identical checksums in Chromium 156); in
      // any case within ~2 levels on a 4x4 grid of means, and never further from native ffmpeg.
      const label = `${name} frame ${i}`;
      const ref = ffmpegGrid(name, f.actualTimestamp, f.width, f.height);
      expect(maxDiff(f.rgb, canvas.frames[i]!.rgb), label).toBeLessThan(2.5);
      expect(maxDiff(f.rgb, ref), label).toBeLessThanOrEqual(maxDiff(canvas.frames[i]!.rgb, ref) + 0.25);
    }
  }
  // A video that names BT.709 gets BT.709 colours, within a level or two of native ffmpeg (the
  // browser's own conversion gives BT.601's blue: up to ~10 levels off, src/core/yuv.ts).
  const tagged = ok(await decode(page, 'bt709.mp4', { frames: 2, forceDecoder: 'webcodecs' }));
  expect(tagged.copiedFrames).toBe(tagged.frames.length);
  for (const f of tagged.frames) {
    const label = `bt709.mp4 at ${f.actualTimestamp}`;
    expect(maxDiff(f.rgb, ffmpegGrid('bt709.mp4', f.actualTimestamp, f.width, f.height)), label).toBeLessThan(3);
    expect(maxDiff(f.rgb, ffmpegGrid('bt709.mp4', f.actualTimestamp, f.width, f.height, 'bt601')), label).toBeGreaterThan(5);
  }
  // So does BT.709 video that is drawn: rotated (a phone's portrait clip) or downscaled. Its frames
  // are converted first and the RGBA drawn.
  const drawnCases = [
    { name: 'bt709-rotated.mp4', size: [240, 320] },
    { name: 'bt709.mp4', maxSide: 160, size: [160, 120] },
  ];
  for (const { name, maxSide, size } of drawnCases) {
    const drawn = ok(await decode(page, name, { frames: 2, forceDecoder: 'webcodecs', ...(maxSide ? { maxSide } : {}) }));
    expect(drawn.copiedFrames, name).toBe(0);
    expect(drawn.frames).toHaveLength(2);
    for (const f of drawn.frames) {
      const label = `${name}${maxSide ? ` at maxSide ${maxSide}` : ''}, ${f.actualTimestamp} s`;
      expect([f.width, f.height], label).toEqual(size);
      expect(maxDiff(f.rgb, ffmpegGrid(name, f.actualTimestamp, f.width, f.height)), label).toBeLessThan(3);
      expect(maxDiff(f.rgb, ffmpegGrid(name, f.actualTimestamp, f.width, f.height, 'bt601')), label).toBeGreaterThan(5);
    }
  }
});

/** The key frame times of a fixture, from ffprobe (the container's flags; x264 marks IDR frames). */
function keyFrameTimes(name: string): number[] {
  const csv = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', path.join(MEDIA, name)],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return csv
    .split('\n')
    .filter((line) => line.split(',')[1]?.startsWith('K'))
    .map((line) => Number(line.split(',')[0]))
    .sort((a, b) => a - b);
}

test('long videos: a key frame within 1/8 of the sample spacing before a sample time is decoded instead (WebCodecs)', async ({ page }) => {
  // long-gop.mp4: 600 s at 25 fps, key frames every 10 s.
  const keys = keyFrameTimes('long-gop.mp4');
  expect(keys.slice(0, 3)).toEqual([0, 10, 20]);
  const keyBefore = (t: number) => keys.filter((k) => k <= t + 1e-6).at(-1)!;
  // Frames a decoder must decode to reach t: from the key frame before it, at 25 fps.
  const cost = (t: number) => Math.round((t - keyBefore(t)) * 25) + 1;
  for (const frames of [8, 32]) {
    const s = ok(await decode(page, 'long-gop.mp4', { frames }));
    expect(s.decoder).toBe('webcodecs');
    expect(s.frames).toHaveLength(s.unique.length);
    const tolerance = 600 / frames / 8;
    let snapped = 0;
    for (const f of s.frames) {
      const key = keyBefore(f.timestamp);
      const label = `T=${frames}: asked ${f.timestamp}, got ${f.actualTimestamp}, key frame ${key}`;
      if (f.timestamp - key <= tolerance) {
        expect(Math.abs(f.actualTimestamp - key), label).toBeLessThan(1e-3);
        snapped++;
      } else expect(Math.abs(f.actualTimestamp - f.timestamp), label).toBeLessThanOrEqual(0.045);
    }
    const before = s.frames.reduce((sum, f) => sum + cost(f.timestamp), 0);
    const after = s.frames.reduce((sum, f) => sum + cost(f.actualTimestamp), 0);
    if (frames === 8) {
      // Every 75 s bin's key frame lies within 9.4 s before its centre: one decoded frame per sample.
      expect(snapped).toBe(8);
      expect(after).toBe(8);
      expect(before).toBeGreaterThan(8 * 25);
    } else {
      // 2.3 s of tolerance against 10 s GOPs: some samples snap, the others decode up to t as before.
      expect(snapped).toBeGreaterThan(0);
      expect(snapped).toBeLessThan(s.frames.length);
      expect(after).toBeLessThan(before);
    }
  }
});

test('long videos on ffmpeg.wasm: one run per sample, each the exact frame native ffmpeg decodes there', async ({ page }) => {
  // long-gop.mp4: 600 s, 15,000 frames; reading it through for 4 samples would decode them all.
  const s = ok(await decode(page, 'long-gop.mp4', { frames: 4, forceDecoder: 'ffmpeg' }));
  expect(s.decoder).toBe('ffmpeg');
  expect(s.frames).toHaveLength(4);
  expect(s.ffmpegRuns).toBe(4);
  for (const f of s.frames) {
    const label = `asked ${f.timestamp}, got ${f.actualTimestamp}`;
    // No key-frame snapping on this path: the frame at the sample time itself.
    expect(Math.abs(f.actualTimestamp - f.timestamp), label).toBeLessThanOrEqual(0.045);
    expect(maxDiff(f.rgb, ffmpegGrid('long-gop.mp4', f.actualTimestamp, f.width, f.height)), label).toBeLessThan(3);
  }
});

test('ffmpeg.wasm is loaded afresh every 8 files (its core does not give back all its memory), and decodes the same frames after', async ({
  page,
}) => {
  const runs: DecodeSummary[] = [];
  for (let i = 0; i < 10; i++) runs.push(ok(await decode(page, 'mpeg4.avi', { frames: 4, forceDecoder: 'ffmpeg' })));
  expect(runs.map((r) => r.timingsMs.load! > 0)).toEqual([true, false, false, false, false, false, false, false, true, false]);
  for (const r of runs) expect(r.frames.map((f) => f.checksum)).toEqual(runs[0]!.frames.map((f) => f.checksum));
});

test('WebCodecs failing partway through a file: ffmpeg.wasm decodes it again and its frames replace those already sent', async ({
  page,
}) => {
  // Garbage over 4 KB mid-file (scripts/make-hostile.sh): Chromium's decoder gives up after a few
  // frames, ffmpeg conceals the damage. Chromium also gives up partway through some intact H.264
  // High 4:4:4 files (python3-imageio's cockatoo.mp4), which took the same path to an error before.
  expect(existsSync(path.join(HOSTILE, 'corrupt-middle.mp4')), 'run scripts/make-hostile.sh first').toBe(true);
  const webcodecs = await decode(page, 'corrupt-middle.mp4', { frames: 8, forceDecoder: 'webcodecs' }, 'hostile');
  expect('error' in webcodecs && webcodecs.error.code, JSON.stringify(webcodecs).slice(0, 300)).toBe('corrupt-file');
  const auto = ok(await decode(page, 'corrupt-middle.mp4', { frames: 8 }, 'hostile'));
  expect(auto.decoder).toBe('ffmpeg');
  expect(auto.replacedFrames, 'frames WebCodecs sent before it failed').toBeGreaterThan(0);
  expect(auto.frames.map((f) => f.attempt)).toEqual(auto.unique.map(() => 1));
  expect(auto.frames.map((f) => f.index)).toEqual(auto.unique.map((_, i) => i));
  expect(auto.progress.at(-1)).toEqual({ done: auto.unique.length, total: auto.unique.length });
  const ff = ok(await decode(page, 'corrupt-middle.mp4', { frames: 8, forceDecoder: 'ffmpeg' }, 'hostile'));
  expect(ff.replacedFrames).toBe(0);
  expect(auto.unique).toEqual(ff.unique);
  expect(auto.frames.map((f) => f.checksum)).toEqual(ff.frames.map((f) => f.checksum));
});

const bad: Record<string, string> = {
  'empty.mp4': 'corrupt-file',
  'text.mp4': 'unsupported-container',
  'truncated.mp4': 'corrupt-file',
  'audio-only.mp4': 'no-video-track',
};

for (const [name, code] of Object.entries(bad)) {
  test(`${name} fails with ${code} on both paths, and the worker decodes the next file`, async ({ page }) => {
    for (const forceDecoder of [undefined, 'ffmpeg'] as const) {
      const outcome = await decode(page, name, { frames: 8, forceDecoder });
      expect('error' in outcome && outcome.error.code, `${name} ${forceDecoder ?? 'auto'}`).toBe(code);
      if ('error' in outcome) {
        expect(outcome.error.message.length).toBeGreaterThan(10);
        // ffprobe's empty JSON ("{", "}") once ended up in the message: "(})".
        expect(outcome.error.message).not.toMatch(/[{}]/);
      }
    }
    const next = ok(await decode(page, 'vp9.webm', { frames: 4 }));
    expect(next.frames).toHaveLength(4);
  });
}

test('probe reports size, rotation, codec and the path without decoding', async ({ page }) => {
  const infos = await page.evaluate(async () => {
    const d = (window as unknown as PageWindow).vidkindDiagnostics.decode;
    const out: Record<string, unknown> = {};
    for (const name of ['rotated.mp4', 'hevc.mkv', 'audio-only.mp4']) out[name] = await d.probe(await d.fileFromUrl(`/__fixtures/${name}`));
    return out;
  });
  expect(infos['rotated.mp4']).toMatchObject({
    width: 240,
    height: 320,
    rotation: 270,
    decoder: 'webcodecs',
    codec: 'avc',
    frameRate: 25,
    frameCount: 100,
  });
  expect(infos['hevc.mkv']).toMatchObject({ width: 320, height: 240, decoder: 'ffmpeg', codec: 'hevc', frameRate: 25 });
  expect(infos['audio-only.mp4']).toMatchObject({ error: { code: 'no-video-track' } });
});

for (const forceDecoder of [undefined, 'ffmpeg'] as const) {
  test(`a cancelled decode (${forceDecoder ?? 'webcodecs'}) rejects with 'cancelled' within a second, and the next file decodes`, async ({
    page,
  }) => {
    const result = await page.evaluate(async (forceDecoder) => {
      const d = (window as unknown as PageWindow).vidkindDiagnostics.decode;
      const cancelled = await d.decodeAndCancel(await d.fileFromUrl('/__fixtures/mandelbrot.mp4'), { frames: 32, forceDecoder }, 2);
      const next = await d.decodeSummary(await d.fileFromUrl('/__fixtures/h264.mp4'), { frames: 4, forceDecoder });
      return { cancelled, next };
    }, forceDecoder);
    expect(result.cancelled.error?.code).toBe('cancelled');
    expect(result.cancelled.framesBeforeAbort).toBeLessThan(32);
    expect(result.cancelled.abortToRejectMs).toBeLessThan(1000);
    expect(ok(result.next).frames).toHaveLength(4);
  });
}
