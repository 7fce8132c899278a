/**
 * Files larger than 2 GiB, in real Chromium with the real decode worker and the real app: a 2.3 GiB
 * H.264 MP4 (index at the end, chunk offsets past 2^31) on the WebCodecs path and on ffmpeg.wasm, a
 * 4.3 GiB HEVC MP4 (co64 offsets past 2^32) that falls back to ffmpeg.wasm by itself, and the
 * 2.3 GiB file classified through index.html. The files come from scripts/make-big-file.ts: sparse
 * copies of small clips, so each decodes to exactly the frames of its source, which is checked.
 *
 * "Never reads the whole file" is measured, not assumed: the files are picked with setInputFiles
 * (disk-backed File objects, as a person's pick is), and every byte Chromium reads from a file goes
 * through read()/pread() in one of its processes, which /proc/<pid>/io counts (rchar). A control step
 * shows that reading 256 MiB of the file does show up there. Peak memory (PSS of all Chromium
 * processes) is sampled and reported, with a bound well below the file's size.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIG_FILES, makeBigFiles } from '../../scripts/make-big-file';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

// The shapes src/diagnostics/decode.ts returns (restated: e2e specs compile apart from the app).
interface FrameSummary {
  index: number;
  timestamp: number;
  actualTimestamp: number;
  width: number;
  height: number;
  checksum: string;
}
interface DecodeSummary {
  info: { durationS: number; width: number; height: number; codec: string; container: string; decoder: 'webcodecs' | 'ffmpeg' };
  decoder: 'webcodecs' | 'ffmpeg';
  unique: number[];
  frames: FrameSummary[];
}
type Outcome<T> = T | { error: { code: string; message: string } };
interface DecodeDiagnostics {
  decodeSummary(file: File, request: { frames: number; forceDecoder?: 'webcodecs' | 'ffmpeg' }): Promise<Outcome<DecodeSummary>>;
}
type PageWindow = { vidkindDiagnostics: { decode: DecodeDiagnostics } };

let dir = '';
let files: Record<string, string> = {};
const big = (name: string) => files[name]!;
const source = (name: string) => path.join(dir, `source-${name}`);

test.beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vidkind-bigfile-e2e-'));
  files = makeBigFiles(dir, { keepSources: true });
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Chromium's processes: every descendant of this test worker (Playwright launched the browser from it). */
function chromiumPids(): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function procNumber(file: string, key: string): number {
  try {
    return Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Bytes read with read()/pread() so far, per Chromium process. */
function readCounters(): Map<number, number> {
  return new Map(chromiumPids().map((pid) => [pid, procNumber(`/proc/${pid}/io`, 'rchar')]));
}

/** Measures the bytes Chromium reads and its peak memory (summed PSS) while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; readMiB: number; peakPssMiB: number }> {
  const before = readCounters();
  let peak = 0;
  const sample = () => {
    const pss = chromiumPids().reduce((sum, pid) => sum + procNumber(`/proc/${pid}/smaps_rollup`, 'Pss'), 0);
    peak = Math.max(peak, pss / 1024);
  };
  sample();
  const timer = setInterval(sample, 200);
  try {
    const value = await fn();
    sample();
    let read = 0;
    for (const [pid, n] of readCounters()) read += n - (before.get(pid) ?? 0);
    return { value, readMiB: read / MiB, peakPssMiB: peak };
  } finally {
    clearInterval(timer);
  }
}

function ok(outcome: Outcome<DecodeSummary>, label: string): DecodeSummary {
  if ('error' in outcome) throw new Error(`${label}: ${outcome.error.code}: ${outcome.error.message}`);
  return outcome;
}

/** Opens the diagnostics page with a file input holding [source clip, big file] as disk-backed Files. */
async function pickOnDiagnostics(page: Page, name: string): Promise<void> {
  await page.goto('/diagnostics.html');
  await expect(page.locator('#log')).toHaveText('ready');
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.id = 'pick';
    document.body.append(input);
  });
  await page.setInputFiles('#pick', [source(name), big(name)]);
}

/** Decodes file i of #pick; `forceDecoder` picks the path, as decode.spec.ts does. */
function decodePicked(page: Page, i: number, forceDecoder?: 'ffmpeg'): Promise<Outcome<DecodeSummary>> {
  return page.evaluate(
    async ([i, forceDecoder]) => {
      const file = (document.getElementById('pick') as HTMLInputElement).files![i]!;
      return (window as unknown as PageWindow).vidkindDiagnostics.decode.decodeSummary(file, { frames: 8, forceDecoder });
    },
    [i, forceDecoder] as const,
  );
}

/** The big file decodes to the same frames, at the same times, as the small clip it was made from. */
function expectSameAsSource(bigOut: DecodeSummary, small: DecodeSummary, decoder: 'webcodecs' | 'ffmpeg', codec: string) {
  expect(bigOut.decoder).toBe(decoder);
  expect(small.decoder).toBe(decoder);
  expect(bigOut.info).toMatchObject({ width: 320, height: 240, codec, container: 'mp4' });
  expect(bigOut.info.durationS).toBeCloseTo(4, 1);
  expect(bigOut.frames).toHaveLength(8);
  expect(bigOut.unique).toEqual(small.unique);
  for (const f of bigOut.frames) {
    expect([f.width, f.height]).toEqual([320, 240]);
    expect(Math.abs(f.actualTimestamp - f.timestamp), `asked ${f.timestamp}, got ${f.actualTimestamp}`).toBeLessThanOrEqual(0.045);
  }
  expect(new Set(bigOut.frames.map((f) => f.checksum)).size, 'frames of a moving pattern differ').toBe(8);
  expect(bigOut.frames.map((f) => [f.actualTimestamp, f.checksum])).toEqual(small.frames.map((f) => [f.actualTimestamp, f.checksum]));
}

test('2.3 GiB H.264 MP4 (index at the end, offsets past 2^31) decodes on WebCodecs and on ffmpeg.wasm without reading the file', async ({
  page,
}) => {
  const name = 'big-h264.mp4';
  await pickOnDiagnostics(page, name);
  const smallWc = ok(await decodePicked(page, 0), 'source, webcodecs');
  const wc = await measured(() => decodePicked(page, 1));
  const smallFf = ok(await decodePicked(page, 0, 'ffmpeg'), 'source, ffmpeg');
  const ff = await measured(() => decodePicked(page, 1, 'ffmpeg'));
  console.log(`${name} webcodecs: Chromium read ${wc.readMiB.toFixed(1)} MiB, peak PSS ${wc.peakPssMiB.toFixed(0)} MiB`);
  console.log(`${name} ffmpeg.wasm: Chromium read ${ff.readMiB.toFixed(1)} MiB, peak PSS ${ff.peakPssMiB.toFixed(0)} MiB`);

  expectSameAsSource(ok(wc.value, 'big, webcodecs'), smallWc, 'webcodecs', 'avc');
  expectSameAsSource(ok(ff.value, 'big, ffmpeg'), smallFf, 'ffmpeg', 'h264');
  for (const m of [wc, ff]) {
    expect(m.readMiB, 'MiB Chromium read while decoding a 2.3 GiB file').toBeLessThan(64);
    expect(m.peakPssMiB, 'peak MiB of all Chromium processes').toBeLessThan(1.5 * 1024);
  }

  // Control: the meter does see file reads. 256 MiB of the (sparse, zero) padding, read through the File.
  const control = await measured(() =>
    page.evaluate(async () => {
      const file = (document.getElementById('pick') as HTMLInputElement).files![1]!;
      let n = 0;
      for (let at = 1 << 30; at < (1 << 30) + 256 * 2 ** 20; at += 16 * 2 ** 20)
        n += (await file.slice(at, at + 16 * 2 ** 20).arrayBuffer()).byteLength;
      return n;
    }),
  );
  expect(control.value).toBe(256 * MiB);
  expect(control.readMiB, 'MiB counted while reading 256 MiB').toBeGreaterThanOrEqual(256);
});

test('4.3 GiB HEVC MP4 (co64 offsets past 2^32) falls back to ffmpeg.wasm by itself and decodes without reading the file', async ({
  page,
}) => {
  const name = 'big-hevc.mp4';
  expect(BIG_FILES.find((r) => r.name === name)!.mdatAt).toBeGreaterThan(4 * GiB);
  await pickOnDiagnostics(page, name);
  const small = ok(await decodePicked(page, 0), 'source');
  const m = await measured(() => decodePicked(page, 1));
  console.log(`${name} (auto): Chromium read ${m.readMiB.toFixed(1)} MiB, peak PSS ${m.peakPssMiB.toFixed(0)} MiB`);
  expectSameAsSource(ok(m.value, 'big, auto'), small, 'ffmpeg', 'hevc');
  expect(m.readMiB, 'MiB Chromium read while decoding a 4.3 GiB file').toBeLessThan(64);
  expect(m.peakPssMiB, 'peak MiB of all Chromium processes').toBeLessThan(1.5 * 1024);
});

test.describe('the app', () => {
  // As app.spec.ts: without the service worker, whose precache install would only slow the test down.
  test.use({ serviceWorkers: 'block' });

  test('classifies the 2.3 GiB file like its source clip (fingerprint, decode, thumbnails, preview) without reading it', async ({
    page,
  }) => {
    test.setTimeout(300_000);
    const name = 'big-h264.mp4';
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'vidkind', level: 1 })).toBeVisible();
    const idle = () => expect(page.getByTestId('queue-status')).toHaveAttribute('data-idle', 'true', { timeout: 240_000 });
    const rows = page.getByTestId('result-row');
    // 8 frames (a user setting) instead of the models' 32: this test is about the file, not the models.
    await page.getByTestId('set-frames').selectOption('8');

    // The source clip first: it loads the models, so the measured step below is only the big file's work.
    await page.getByTestId('file-input').setInputFiles(source(name));
    await expect(rows).toHaveCount(1, { timeout: 240_000 });
    await idle();
    const t0 = Date.now();

    const m = await measured(async () => {
      await page.getByTestId('file-input').setInputFiles(big(name));
      await expect(rows).toHaveCount(2, { timeout: 240_000 });
      await idle();
      console.log(`app, ${name}: verdict after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const row = rows.filter({ has: page.getByTestId('result-name').getByText(name, { exact: true }) });
      await expect(row).toHaveAttribute('data-outcome', 'ok');
      await expect(row.locator('img')).toHaveCount(1);
      // The detail view plays the file itself (an object URL of the File) when this browser can.
      await row.getByTestId('open-detail').click();
      const detail = page.getByTestId('detail');
      await expect(detail.getByRole('heading', { name })).toBeVisible();
      const preview = detail.getByTestId('preview');
      if (await preview.count()) {
        await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThan(0);
        await preview.evaluate((v: HTMLVideoElement) => (v.currentTime = 3));
        await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThan(1);
        await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(4, 1);
      } else await expect(detail.getByTestId('no-preview')).toBeVisible();
      await page.keyboard.press('Escape');
      await expect(detail).toHaveCount(0);
    });
    console.log(`app, ${name}: Chromium read ${m.readMiB.toFixed(1)} MiB, peak PSS ${m.peakPssMiB.toFixed(0)} MiB`);
    expect(m.readMiB, 'MiB Chromium read while the app classified and previewed a 2.3 GiB file').toBeLessThan(64);
    expect(m.peakPssMiB, 'peak MiB of all Chromium processes').toBeLessThan(1.5 * 1024);

    // Same frames in, same verdict out: the big file's result equals its source clip's.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    interface Exported {
      file: string;
      label: string;
      probs: Record<string, number>;
      video: { durationS: number; width: number; height: number; decoder: string };
    }
    const results = JSON.parse(readFileSync(await download.path(), 'utf8')) as Exported[];
    const bigResult = results.find((r) => r.file === name)!;
    const smallResult = results.find((r) => r.file === `source-${name}`)!;
    expect(bigResult.video).toMatchObject({ width: 320, height: 240, decoder: 'webcodecs' });
    expect(bigResult.video.durationS).toBeCloseTo(4, 1);
    expect(bigResult.label).toBe(smallResult.label);
    for (const [k, p] of Object.entries(smallResult.probs)) expect(bigResult.probs[k], k).toBeCloseTo(p, 5);
  });
});
