/**
 * `npm run check:browser -- --labels <csv>`: `vidkind check` for the app. The built site, served as
 * `npm start` serves it, in Debian's Chromium: every labelled video is dropped on the page at once,
 * classified with the app's default settings, and exported as JSON by the Export button, as a person
 * would; the Results are scored as `vidkind check` scores its own (node-trainer/src/eval/check.ts).
 * With `--compare <report.json>` (from `vidkind check --out`), it lists where the two differ.
 * Browser-only failures (a decoder, a container, the fallback path) show up here and nowhere else.
 * `--tta` ticks the app's test-time augmentation first (compare with `vidkind check --tta`).
 * `--models <dir>` runs a models folder as `vidkind export` writes it, picked in the app's Settings
 * (Use models from a folder…), instead of the site's (compare with `vidkind check --models <dir>`).
 *   npm run check:browser -- --labels <csv> [--videos <dir>] [--models <dir>] [--tta] [--out report.json] [--compare cli.json] [--no-build]
 * Exit code 0 when every file got a verdict, 1 if any failed, 2 on usage errors.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseManifest, pickEnsemble } from '../src/core/manifest';
import { ResultSchema, type Result } from '../src/core/result';
import { checkMarkdown, checkReport, type CheckReport } from '../node-trainer/src/eval/check.ts';
import { readLabels } from '../node-trainer/src/extract/labels.ts';
import { progressBar } from '../node-trainer/src/extract/progress.ts';
import { launch, serve } from './browser.ts';

const { values: a } = parseArgs({
  options: {
    labels: { type: 'string' },
    videos: { type: 'string' },
    models: { type: 'string' },
    out: { type: 'string' },
    compare: { type: 'string' },
    tta: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'timeout-min': { type: 'string', default: '60' },
  },
});
const usage = (msg: string): never => {
  console.error(`check:browser: ${msg}`);
  process.exit(2);
};
if (!a.labels) usage('--labels <csv> is required (path,class,subclass,source)');
const manifestFile = a.models ? resolve(a.models, 'manifest.json') : 'public/models/manifest.json';
const manifest = parseManifest(JSON.parse(readFileSync(manifestFile, 'utf8')));
const ensemble = pickEnsemble(manifest, undefined);
let rows: ReturnType<typeof readLabels> = [];
try {
  rows = readLabels(resolve(a.labels!), resolve(a.videos ?? dirname(a.labels!)), manifest.taxonomy);
} catch (e) {
  usage((e as Error).message);
}
if (rows.length === 0) usage(`${a.labels} lists no videos`);

if (!a['no-build']) {
  console.error('check:browser: building the site (vite build)');
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) usage('vite build failed');
}
const server = await serve('vite.config.ts');
const browser = await launch();
let report: CheckReport;
try {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(server.url);
  const input = page.getByTestId('file-input');
  await input.waitFor({ state: 'attached', timeout: 60_000 });
  if (a.models) {
    // Once the site's models have settled (loaded or failed), as a person would wait for the page.
    await page.locator('[data-testid="model-status"]:is([data-status="ready"], [data-status="error"])').waitFor({ timeout: 120_000 });
    await page.getByTestId('models-folder-input').setInputFiles(resolve(a.models));
    const ready = page.getByTestId('models-ready').filter({ hasText: 'from your folder' });
    const failed = page.getByTestId('model-error').or(page.getByTestId('models-folder-error'));
    await ready.or(failed).first().waitFor({ timeout: 120_000 });
    if (await failed.count()) throw new Error(`the app did not take the models in ${a.models}: ${await failed.first().innerText()}`);
  }
  if (a.tta) await page.getByTestId('set-tta').check();
  await input.setInputFiles(rows.map((r) => r.file));
  const bar = progressBar('check:browser');
  const deadline = Date.now() + Number(a['timeout-min']) * 60_000;
  for (;;) {
    const done = await page.locator('[data-testid="result-row"]').count();
    const idle = (await page.getByTestId('queue-status').getAttribute('data-idle')) === 'true';
    bar.update(done, rows.length, '');
    if (idle && done >= rows.length) break;
    if (Date.now() > deadline) throw new Error(`the app had finished ${done} of ${rows.length} files after ${a['timeout-min']} min`);
    await page.waitForTimeout(500);
  }
  bar.stop();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  const exported = (JSON.parse(readFileSync(await download.path(), 'utf8')) as unknown[]).map((r) => ResultSchema.parse(r) as Result);
  // The list is in the order the files were added; the export keeps it.
  if (exported.length !== rows.length || exported.some((r, i) => r.file !== basename(rows[i]!.file)))
    throw new Error(`the export lists ${exported.map((r) => r.file).join(', ')}, not the ${rows.length} labelled files in order`);
  report = checkReport(rows, exported, {
    models: {
      dir: `${manifestFile}${a.models ? " (picked in the app's Settings)" : ''} in Chromium ${browser.version()}`,
      ensemble: ensemble.id,
      version: manifest.version,
      tta: a.tta === true,
    },
    labels: resolve(a.labels!),
  });
  process.stdout.write(checkMarkdown(report, manifest.taxonomy));
  if (a.out) writeFileSync(resolve(a.out), JSON.stringify(report, null, 2) + '\n');
  if (a.compare) {
    const cli = JSON.parse(readFileSync(resolve(a.compare), 'utf8')) as CheckReport;
    const byPath = new Map(cli.files.map((f) => [f.path, f]));
    const lines: string[] = [];
    let same = 0;
    for (const f of report.files) {
      const c = byPath.get(f.path);
      if (!c) continue;
      const dConf = f.confidence !== null && c.confidence !== null ? Math.abs(f.confidence - c.confidence) : null;
      if (f.predicted === c.predicted && c.predicted !== null) same++;
      if (f.predicted !== c.predicted || dConf === null || dConf > 0.05)
        lines.push(
          `| ${f.path} | ${c.predicted ?? c.error?.code} ${c.confidence?.toFixed(3) ?? ''} | ${f.predicted ?? f.error?.code} ${f.confidence?.toFixed(3) ?? ''} |`,
        );
    }
    process.stdout.write(`\n## Against ${a.compare}\n\nSame verdict on ${same} of ${report.files.length} files.`);
    process.stdout.write(
      lines.length
        ? `\n\n| file | that report | the app |\n| --- | --- | --- |\n${lines.join('\n')}\n`
        : ' No confidence differs by more than 0.05.\n',
    );
  }
} finally {
  await browser.close();
  server.stop();
}
process.exitCode = report.files.some((f) => f.predicted === null) ? 1 : 0;
