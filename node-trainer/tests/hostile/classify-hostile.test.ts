/**
 * `vidkind classify` on hostile inputs (scripts/make-hostile.sh) plus 100 seeded byte-flip variants
 * of a good clip: one valid Result per file, a clear error code where the file cannot be read, a
 * verdict where it can, exit code 1, bounded memory, and a good clip at the end of the batch still
 * classified. Models: the tiny real backbone and an exported, untrained head (tests only).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type Result } from '../../../src/core/result.ts';
import { CLASS_IDS, DEFAULT_TAXONOMY, flattenSubclasses } from '../../../src/core/taxonomy.ts';
import { exportRun } from '../../src/export/export-run.ts';
import { saveHead } from '../../src/head/checkpoint.ts';
import { HeadConfigSchema } from '../../src/head/params.ts';
import { makeModelsDir, randomHead } from '../extract/test-models.ts';
import { byteFlipVariant, HOSTILE_DIR, HOSTILE_EXPECTATIONS } from './hostile-inputs.ts';

const ROOT = resolve(__dirname, '../../..');
const CLI = resolve(__dirname, '../../bin/vidkind.mjs');
const VARIANTS = 100;
let dir = '';

beforeAll(async () => {
  const made = spawnSync('bash', [join(ROOT, 'scripts/make-hostile.sh')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`make-hostile.sh failed: ${made.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'vidkind-hostile-'));
  makeModelsDir(join(dir, 'models'));
  const subs = flattenSubclasses(DEFAULT_TAXONOMY).map((s) => s.key);
  const config = HeadConfigSchema.parse({
    featureDim: 16,
    projDim: 16,
    lstmHidden: 8,
    lstmLayers: 1,
    attnHeads: 2,
    poolHidden: 8,
    subclasses: subs.length,
  });
  saveHead(
    join(dir, 'run', 'best'),
    { format: 'vidkind-head/1', config, backbone: 'tiny-test', frames: 8, classes: [...CLASS_IDS], subclasses: subs, meta: {} },
    randomHead(config, 5),
  );
  await exportRun({ run: join(dir, 'run'), to: join(dir, 'models'), id: 'toy', testModel: true, tfjsParity: false });
  const good = readFileSync(join(HOSTILE_DIR, 'good.mp4'));
  mkdirSync(join(dir, 'flips'));
  for (let i = 0; i < VARIANTS; i++) writeFileSync(join(dir, 'flips', `flip-${String(i).padStart(3, '0')}.mp4`), byteFlipVariant(good, i));
  // The same good clip once more, last in the batch: the batch must still work after all that.
  copyFileSync(join(HOSTILE_DIR, 'good.mp4'), join(dir, 'zz-good-last.mp4'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vidkind classify on hostile inputs', () => {
  it('gives every file one valid Result (clear error or verdict), exit 1, bounded memory, and the last good clip a verdict', () => {
    const named = readdirSync(HOSTILE_DIR)
      .filter((f) => !f.startsWith('.'))
      .sort();
    expect(named.sort()).toEqual(Object.keys(HOSTILE_EXPECTATIONS).sort());
    const flips = readdirSync(join(dir, 'flips')).sort();
    const files = [...named.map((f) => join(HOSTILE_DIR, f)), ...flips.map((f) => join(dir, 'flips', f)), join(dir, 'zz-good-last.mp4')];
    // /usr/bin/time reports the peak resident memory of the whole batch (KB on stderr's last line).
    const r = spawnSync(
      '/usr/bin/time',
      ['-f', 'maxrss=%M', process.execPath, CLI, 'classify', '--format', 'jsonl', '--models', join(dir, 'models'), ...files],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 600_000,
      },
    );
    expect(r.status, r.stderr.slice(-2000)).toBe(1);
    const results: Result[] = r.stdout
      .trim()
      .split('\n')
      .map((l) => ResultSchema.parse(JSON.parse(l)));
    expect(results.map((x) => x.file)).toEqual(files);

    const wrong: string[] = [];
    for (const [name, allowed] of Object.entries(HOSTILE_EXPECTATIONS)) {
      const res = results.find((x) => basename(x.file) === name)!;
      const outcome = 'error' in res ? res.error.code : 'verdict';
      // Native ffmpeg reads some files a browser cannot: `node` lists what vidkind classify may give where it differs.
      if (!(allowed.node ?? allowed.browser).includes(outcome)) wrong.push(`${name}: ${JSON.stringify(res).slice(0, 300)}`);
      if ('error' in res && (res.error.code === 'internal' || res.error.message.length < 10))
        wrong.push(`${name}: unclear error ${res.error.message}`);
    }
    expect(wrong).toEqual([]);
    // Byte flips: never an unexplained failure. Damage gives corrupt-file (or a verdict where the flips hit nothing vital).
    const flipOutcomes = results.slice(named.length, named.length + VARIANTS).map((x) => ('error' in x ? x.error.code : 'verdict'));
    for (const [i, o] of flipOutcomes.entries())
      expect(
        ['verdict', 'corrupt-file', 'unsupported-container', 'no-video-track', 'unsupported-codec', 'too-short'],
        `flip ${i}`,
      ).toContain(o);
    expect(flipOutcomes.filter((o) => o === 'verdict').length).toBeGreaterThan(0);
    expect(results.at(-1)).not.toHaveProperty('error');

    const rssKb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    // The 8K frame is decoded scaled by ffmpeg; nothing in the batch is held past its file.
    expect(rssKb).toBeGreaterThan(0);
    expect(rssKb / 1024, 'peak MB of the classify process').toBeLessThan(1024);
  }, 600_000);
});
