/**
 * Builds vidkind's training corpus from real media in Debian packages: moving stills, slide-shows
 * and scrolls of rendered documents, and live captures under Xvfb, cut into 6-12 s clips with
 * seeded, label-independent encodings. Writes labels.csv, provenance.json and contact sheets.
 *
 *   npx tsx node-trainer/corpus/build.ts --out /work/corpus [--quick] [--per-class N]
 *
 * Clips that are black for most of their length are dropped (see blackdetect.ts). To list the
 * clips of a built corpus that the filter would drop, without changing anything:
 *
 *   npx tsx node-trainer/corpus/build.ts --out /work/corpus --check-black [--live-only] > black-clips.txt
 *
 * --live-only measures only live captures (from provenance.json): stills and rendered documents
 * are drawn from pictures and pages and do not go black; it halves the scan.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { allocate, interleave, shouldCut } from './allocate.ts';
import { type BlackMeasure, describeBlack, isMostlyBlack, MAX_BLACK_SHARE, measureBlack } from './blackdetect.ts';
import { allSessions, type CaptureSession, record } from './capture.ts';
import { allPdfs, allScreenshots, renderPage } from './documents.ts';
import { packageLicence, packageVersion, refuseReserved } from './provenance.ts';
import { cutArgs, ffmpegTo, pickEncoding, pickFraming, pickMotion, pickScroll, run, scrollArgs, slideshowArgs } from './render.ts';
import { type Random, seededHex, seededRandom, shuffled, uniform, weighted } from './seeded.ts';
import { allStills } from './stills.ts';
import { labelsCsv } from '../src/extract/labels.ts';

type ClassId = 'animation' | 'gaming' | 'natural' | 'flat';
const CLASSES: ClassId[] = ['animation', 'gaming', 'natural', 'flat'];
type Treatment = 'real video' | 'moving still' | 'live capture' | 'rendered';

/** One clip the corpus could contain; `make` writes it. */
interface Candidate {
  key: string;
  classId: ClassId;
  subclass: string;
  source: string;
  pkg: string;
  paths: string[];
  treatment: Treatment;
  recipe: string;
  /** A source added after the full build: allocated on top of the class quota (see allocate.ts). */
  extra?: boolean;
  make: (rand: Random, outPath: string, duration: number) => Promise<void>;
}

/** A row of the provenance manifest. */
interface ProvenanceRow {
  path: string;
  class: ClassId;
  subclass: string;
  source: string;
  package: string;
  version: string;
  paths: string[];
  licence: string;
  treatment: Treatment;
  recipe: string;
  encoding: string;
  duration: number;
}

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'per-class': { type: 'string' },
    seed: { type: 'string', default: 'vidkind-corpus-v1' },
    jobs: { type: 'string', default: '2' },
    'no-capture': { type: 'boolean', default: false },
    'capture-lanes': { type: 'string', default: '3' },
    'sheets-only': { type: 'boolean', default: false },
    'check-black': { type: 'boolean', default: false },
    'live-only': { type: 'boolean', default: false },
    'extras-only': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
if (!opts.out) throw new Error('usage: build.ts --out <dir> [--quick] [--per-class N]');
const OUT = opts.out;
const SEED = opts.seed!;
const WORK = join(OUT, 'work');
const PER_CLASS = Number(opts['per-class'] ?? (opts.quick ? 110 : 400));
/** --only a,b: cut only these sources' clips (the others are labelled if they exist). */
const ONLY = opts.only === undefined ? undefined : new Set(opts.only.split(',').filter(Boolean));
const MAX_STILL_VARIANTS = 4;

function log(msg: string): void {
  // In --check-black mode stdout carries only the list of paths.
  (opts['check-black'] ? console.error : console.log)(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

/** A clip measured after it was cut and dropped for being black. */
interface DroppedClip extends BlackMeasure {
  path: string;
  class: ClassId;
  source: string;
  key: string;
}

/** Black measurements of clips already cut, keyed by path, size and mtime, so a rebuild measures only new clips. */
const BLACK_CACHE = join(WORK, 'blackdetect.json');
type BlackCache = Record<string, BlackMeasure & { size: number; mtimeMs: number }>;
const blackCache: BlackCache = existsSync(BLACK_CACHE) ? (JSON.parse(readFileSync(BLACK_CACHE, 'utf8')) as BlackCache) : {};

async function measureClip(rel: string): Promise<BlackMeasure> {
  const { size, mtimeMs } = statSync(join(OUT, rel));
  const hit = blackCache[rel];
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs) return hit;
  const m = await measureBlack(join(OUT, rel));
  blackCache[rel] = { ...m, size, mtimeMs };
  return m;
}

function stillCandidates(): Candidate[] {
  const out: Candidate[] = [];
  const stills = allStills();
  for (let v = 0; v < MAX_STILL_VARIANTS; v++) {
    for (const s of stills) {
      out.push({
        key: `still:${s.file}:${v}`,
        classId: s.classId,
        subclass: s.subclass,
        source: s.source,
        pkg: s.pkg,
        paths: [s.file],
        treatment: 'moving still',
        recipe: 'zoompan',
        make: async (rand, outPath, duration) => {
          const enc = pickEncoding(rand);
          await ffmpegTo(slideshowArgs([s.file], enc, pickFraming(rand), [pickMotion(rand)], duration, outPath), outPath);
        },
      });
    }
  }
  return out;
}

/** Visual-novel frames: a character sprite over a background, composed as the game shows them. */
function renpyCandidates(): Candidate[] {
  const dir = '/usr/share/games/renpy/the_question/game/images';
  if (!existsSync(dir)) return [];
  const bgs = ['bg club.jpg', 'bg lecturehall.jpg', 'bg meadow.jpg', 'bg uni.jpg'];
  const sprites = [
    'blue giggle',
    'blue normal',
    'blue smile',
    'blue surprised',
    'green giggle',
    'green normal',
    'green smile',
    'green surprised',
  ];
  const out: Candidate[] = [];
  for (const bg of bgs)
    for (const sp of sprites) {
      const files = [join(dir, bg), join(dir, `sylvie ${sp}.png`)];
      out.push({
        key: `renpy:${bg}:${sp}`,
        classId: 'animation',
        subclass: 'illustrated-story',
        source: 'renpy-thequestion',
        pkg: 'renpy-thequestion',
        paths: files,
        treatment: 'moving still',
        recipe: 'sprite over background, zoompan',
        make: async (rand, outPath, duration) => {
          const frame = join(WORK, 'composed', `${seededHex(SEED, `${bg}${sp}`)}.png`);
          if (!existsSync(frame)) {
            mkdirSync(join(WORK, 'composed'), { recursive: true });
            await run('ffmpeg', [
              '-v',
              'error',
              '-y',
              '-i',
              files[0]!,
              '-i',
              files[1]!,
              '-filter_complex',
              '[0:v]scale=1280:720[b];[1:v]scale=-1:680[s];[b][s]overlay=(W-w)/2+W/6:H-h',
              '-frames:v',
              '1',
              frame,
            ]);
          }
          const enc = pickEncoding(rand);
          await ffmpegTo(slideshowArgs([frame], enc, pickFraming(rand), [pickMotion(rand)], duration, outPath), outPath);
        },
      });
    }
  return out;
}

function documentCandidates(): Candidate[] {
  const out: Candidate[] = [];
  const pdfs = allPdfs(WORK);
  const bySource = new Map<string, typeof pdfs>();
  for (const p of pdfs) bySource.set(p.source, [...(bySource.get(p.source) ?? []), p]);
  for (const [source, list] of bySource) {
    const rand = seededRandom(SEED, `pdf-source:${source}`);
    // A family with many PDFs contributes its first few, in seeded order.
    for (const pdf of shuffled(rand, list).slice(0, 3)) {
      const id = seededHex(SEED, pdf.file, 10);
      for (let v = 0; v < 6; v++) {
        const r = seededRandom(SEED, `pdf:${pdf.file}:${v}`);
        const mode =
          pdf.subclass === 'slides'
            ? weighted(r, [
                ['slideshow', 0.55],
                ['still', 0.45],
              ] as const)
            : weighted(r, [
                ['scroll', 0.4],
                ['slideshow', 0.25],
                ['still', 0.35],
              ] as const);
        const count = mode === 'still' ? 1 : mode === 'scroll' ? Math.min(3, pdf.pages) : Math.min(pdf.pages, Math.round(uniform(r, 3, 6)));
        const first = 1 + Math.floor(r() * Math.max(1, pdf.pages - count + 1));
        const pages = Array.from({ length: count }, (_, i) => first + i);
        out.push({
          key: `pdf:${pdf.file}:${v}`,
          classId: 'flat',
          subclass: pdf.subclass,
          source,
          pkg: pdf.pkg,
          paths: [`${pdf.file}#pages=${pages.join(',')}`],
          treatment: 'rendered',
          recipe: `pdftoppm pages, ${mode}`,
          make: async (rand, outPath, duration) => {
            const enc = pickEncoding(rand);
            const width = Math.round((enc.width * 1.5) / 2) * 2;
            const pngs = pages.map((p) => renderPage(WORK, pdf.file, p, width, id));
            if (mode === 'scroll') {
              const tall = join(WORK, 'pages', `${id}-tall-${pages.join('_')}-${width}.png`);
              if (!existsSync(tall)) {
                const ins = pngs.flatMap((p) => ['-i', p]);
                const filter = pngs.length > 1 ? `${pngs.map((_, i) => `[${i}:v]`).join('')}vstack=inputs=${pngs.length}` : 'null';
                await run('ffmpeg', ['-v', 'error', '-y', ...ins, '-filter_complex', filter, '-frames:v', '1', tall]);
              }
              await ffmpegTo(scrollArgs(tall, enc, pickScroll(rand, 'down'), duration, outPath), outPath);
            } else {
              const framing = pickFraming(rand);
              await ffmpegTo(
                slideshowArgs(
                  pngs,
                  enc,
                  framing,
                  pngs.map(() => pickMotion(rand)),
                  duration,
                  outPath,
                ),
                outPath,
              );
            }
          },
        });
      }
    }
  }
  return out;
}

function screenshotCandidates(): Candidate[] {
  const out: Candidate[] = [];
  const shots = allScreenshots();
  for (let v = 0; v < 3; v++)
    for (const s of shots)
      out.push({
        key: `shot:${s.file}:${v}`,
        classId: 'flat',
        subclass: s.subclass,
        source: s.source,
        pkg: s.pkg,
        paths: [s.file],
        treatment: 'moving still',
        recipe: 'zoompan',
        make: async (rand, outPath, duration) => {
          const enc = pickEncoding(rand);
          await ffmpegTo(slideshowArgs([s.file], enc, pickFraming(rand), [pickMotion(rand)], duration, outPath), outPath);
        },
      });
  return out;
}

/** Clip durations of a session's recording, in order, with a gap between clips. */
function segments(session: CaptureSession): Array<{ start: number; duration: number }> {
  const rand = seededRandom(SEED, `segments:${session.id}`);
  const out: Array<{ start: number; duration: number }> = [];
  let t = 0.5;
  for (let i = 0; i < session.maxClips; i++) {
    const duration = Math.round(uniform(rand, 6, 10) * 10) / 10;
    out.push({ start: t, duration });
    t += duration + Math.round(uniform(rand, 0.5, 3) * 10) / 10;
  }
  return out;
}

const recordings = new Map<string, Promise<string>>();
const recordingNeed = new Map<string, number>();
const recordingFrom = new Map<string, number>();

function captureCandidates(): Candidate[] {
  if (opts['no-capture']) return [];
  const out: Candidate[] = [];
  for (const session of allSessions()) {
    if (!existsSync(session.cmd) || !existsSync(session.program)) {
      log(`skip capture ${session.id}: ${existsSync(session.cmd) ? session.program : session.cmd} not installed`);
      continue;
    }
    segments(session).forEach((seg, i) => {
      out.push({
        key: `capture:${session.id}:${i}`,
        classId: session.classId,
        subclass: session.subclass,
        source: session.source,
        pkg: session.pkg,
        paths: [session.program],
        treatment: 'live capture',
        recipe: `Xvfb + x11grab, segment ${i} at ${seg.start}s`,
        ...(session.extra ? { extra: true } : {}),
        make: async (rand, outPath) => {
          // The recording covers only the segments still missing: [from, need) of the timeline.
          const need = Math.ceil(recordingNeed.get(session.id) ?? seg.start + seg.duration);
          const from = Math.floor(recordingFrom.get(session.id) ?? 0);
          const file = join(WORK, 'recordings', from > 0 ? `${session.id}-${from}-${need}s.mkv` : `${session.id}-${need}s.mkv`);
          let p = recordings.get(file);
          if (!p) {
            mkdirSync(join(WORK, 'recordings'), { recursive: true });
            log(`recording ${session.id} for ${need - from} s`);
            p = record(session, need - from + 1, file, WORK, SEED).then(() => file);
            recordings.set(file, p);
          }
          await p;
          const enc = pickEncoding(rand);
          await ffmpegTo(cutArgs(file, seg.start - from, enc, pickFraming(rand), seg.duration, outPath), outPath);
        },
      });
    });
  }
  return out;
}

function clipPath(c: Candidate): { rel: string; rand: Random; duration: number } {
  const rand = seededRandom(SEED, c.key);
  const duration = Math.round(uniform(rand, 6, 10) * 10) / 10;
  const enc = pickEncoding(seededRandom(SEED, `${c.key}#enc`));
  const hex = seededHex(SEED, c.key, 16);
  return { rel: `clips/${hex.slice(0, 2)}/${hex}.${enc.container}`, rand: seededRandom(SEED, `${c.key}#enc`), duration };
}

async function contactSheets(rows: ProvenanceRow[]): Promise<void> {
  const dir = join(OUT, 'contact');
  const thumbs = join(WORK, 'thumbs');
  mkdirSync(dir, { recursive: true });
  mkdirSync(thumbs, { recursive: true });
  const groups = new Map<string, ProvenanceRow[]>();
  for (const r of rows) {
    groups.set(r.class, [...(groups.get(r.class) ?? []), r]);
    groups.set(`${r.class}--${r.subclass}`, [...(groups.get(`${r.class}--${r.subclass}`) ?? []), r]);
  }
  for (const [name, list] of groups) {
    const pick = shuffled(seededRandom(SEED, `sheet:${name}`), list).slice(0, 80);
    const files: string[] = [];
    for (const r of pick) {
      const t = join(thumbs, `${r.path.replace(/[/.]/g, '_')}.png`);
      // A clip remade after its thumbnail was drawn gets a new one.
      if (!existsSync(t) || statSync(t).mtimeMs < statSync(join(OUT, r.path)).mtimeMs)
        await run('ffmpeg', [
          '-v',
          'error',
          '-y',
          '-ss',
          String(Math.min(3, r.duration / 2)),
          '-i',
          join(OUT, r.path),
          '-frames:v',
          '1',
          '-vf',
          'scale=192:108',
          t,
        ]).catch(() => undefined);
      if (existsSync(t)) files.push(t);
    }
    if (files.length === 0) continue;
    const cols = 10;
    const layout = files.map((_, i) => `${(i % cols) * 192}_${Math.floor(i / cols) * 108}`).join('|');
    const args = files.flatMap((f) => ['-i', f]);
    const filter = files.length === 1 ? '[0:v]null' : `xstack=inputs=${files.length}:layout=${layout}:fill=black`;
    await run('ffmpeg', ['-v', 'error', '-y', ...args, '-filter_complex', filter, '-frames:v', '1', join(dir, `${name}.png`)]);
  }
}

/** Writes labels.csv and provenance.json for the clips made so far (the build can be stopped). */
function writeLabels(rows: ProvenanceRow[]): void {
  const sorted = [...rows].sort((a, b) => a.path.localeCompare(b.path));
  writeFileSync(join(OUT, 'labels.csv.part'), labelsCsv(sorted));
  renameSync(join(OUT, 'labels.csv.part'), join(OUT, 'labels.csv'));
  writeFileSync(
    join(OUT, 'provenance.json.part'),
    JSON.stringify({ seed: SEED, perClass: PER_CLASS, builtAt: new Date().toISOString(), clips: sorted }, null, 1),
  );
  renameSync(join(OUT, 'provenance.json.part'), join(OUT, 'provenance.json'));
}

/** Clips per class, subclass and source, as Markdown for the README. */
function statsMarkdown(rows: ProvenanceRow[], dropped: DroppedClip[]): string {
  const lines = ['| class | clips | sources | subclasses (clips) | treatments (clips) |', '| --- | --- | --- | --- | --- |'];
  const count = (list: ProvenanceRow[], key: (r: ProvenanceRow) => string): string => {
    const m = new Map<string, number>();
    for (const r of list) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  };
  for (const cls of CLASSES) {
    const mine = rows.filter((r) => r.class === cls);
    lines.push(
      `| ${cls} | ${mine.length} | ${new Set(mine.map((r) => r.source)).size} | ${count(mine, (r) => r.subclass)} | ${count(mine, (r) => r.treatment)} |`,
    );
  }
  lines.push('', '| class | clips per source |', '| --- | --- |');
  for (const cls of CLASSES)
    lines.push(
      `| ${cls} | ${count(
        rows.filter((r) => r.class === cls),
        (r) => r.source,
      )} |`,
    );
  lines.push(
    '',
    `Containers: ${count(rows, (r) => r.encoding.split(' ')[0]!)}.`,
    `Total ${rows.length} clips, ${(rows.reduce((s, r) => s + r.duration, 0) / 60).toFixed(1)} minutes.`,
    `Dropped as black for >= ${MAX_BLACK_SHARE * 100}% of their length: ${dropped.length}${
      dropped.length > 0 ? ` (${dropped.map((d) => `${d.class}/${d.source}`).join(', ')})` : ''
    }.`,
  );
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  log(`building ${PER_CLASS} clips per class into ${OUT}`);
  const cands = [...captureCandidates(), ...stillCandidates(), ...renpyCandidates(), ...screenshotCandidates(), ...documentCandidates()];
  for (const c of cands) for (const p of c.paths) refuseReserved(c.pkg, p.split('#')[0]!);
  const chosen = allocate(cands, { classes: CLASSES, perClass: PER_CLASS, seed: SEED, log });
  // A recording must be long enough for the last segment any chosen clip needs.
  for (const c of chosen) {
    const m = /^capture:(.+):(\d+)$/.exec(c.key);
    if (!m) continue;
    const session = allSessions().find((s) => s.id === m[1])!;
    const seg = segments(session)[Number(m[2])]!;
    recordingNeed.set(session.id, Math.max(recordingNeed.get(session.id) ?? 0, seg.start + seg.duration));
    if (!existsSync(join(OUT, clipPath(c).rel)))
      recordingFrom.set(session.id, Math.min(recordingFrom.get(session.id) ?? Infinity, seg.start));
  }
  const rows: ProvenanceRow[] = [];
  const todo = chosen.map((c) => ({ c, ...clipPath(c) }));
  let done = 0;
  let failed = 0;
  const dropped: DroppedClip[] = [];
  const finish = async (item: (typeof todo)[number]): Promise<void> => {
    // An existing clip dropped as black is not remade in the same build: from the same still or
    // recording it would come out the same.
    if (dropped.some((d) => d.path === item.rel)) return;
    const outPath = join(OUT, item.rel);
    // --extras-only: the clips of the other sources are labelled if they exist, never (re)made.
    if (
      shouldCut({
        exists: existsSync(outPath),
        sheetsOnly: !!opts['sheets-only'],
        extrasOnly: !!opts['extras-only'],
        extra: !!item.c.extra,
        only: ONLY,
        source: item.c.source,
      })
    ) {
      mkdirSync(join(outPath, '..'), { recursive: true });
      try {
        await item.c.make(item.rand, outPath, item.duration);
      } catch (e) {
        failed++;
        log(`FAILED ${item.c.key}: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    if (!existsSync(outPath)) return;
    // A clip black for most of its length (a capture whose window vanished, a lingering dark
    // scene change) is dropped: not labelled, and deleted, so a later build cuts it again. Its
    // class stays one clip short; the summary says so.
    let black: BlackMeasure;
    try {
      black = await measureClip(item.rel);
    } catch (e) {
      failed++;
      log(`FAILED ${item.c.key}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (isMostlyBlack(black)) {
      dropped.push({ path: item.rel, class: item.c.classId, source: item.c.source, key: item.c.key, ...black });
      rmSync(outPath, { force: true });
      log(`DROPPED ${item.rel} (${item.c.key}): ${describeBlack(black)}`);
      return;
    }
    done++;
    if (done % 25 === 0) {
      log(`${done}/${todo.length} clips`);
      writeLabels(rows);
      writeFileSync(BLACK_CACHE, JSON.stringify(blackCache));
    }
    const enc = pickEncoding(seededRandom(SEED, `${item.c.key}#enc`));
    rows.push({
      path: item.rel,
      class: item.c.classId,
      subclass: item.c.subclass,
      source: item.c.source,
      package: item.c.pkg,
      version: packageVersion(item.c.pkg),
      paths: item.c.paths,
      licence: packageLicence(item.c.pkg),
      treatment: item.c.treatment,
      recipe: item.c.recipe,
      encoding: `${enc.container}/${enc.codec} ${enc.width}x${enc.height}@${enc.fps}`,
      duration: item.duration,
    });
  };
  // Captures run in real time on their own display: a separate lane records one session after
  // another (cutting its clips), while the other lanes render stills and documents.
  const sessions = new Map<string, typeof todo>();
  const stillQueue: typeof todo = [];
  for (const item of todo) {
    const m = /^capture:(.+):\d+$/.exec(item.c.key);
    if (m) sessions.set(m[1]!, [...(sessions.get(m[1]!) ?? []), item]);
    else stillQueue.push(item);
  }
  // Clips that exist are labelled first (in the still lanes, while the capture lanes record); the
  // rest is taken class by class in turn, so that a build stopped early is still balanced. Existing
  // clips are measured for black the first time only (then cached), one per still lane.
  const existing = todo.filter((t) => existsSync(join(OUT, t.rel)));
  const byClass = (items: typeof todo): typeof todo =>
    interleave(CLASSES.map((cls) => items.filter((t) => t.c.classId === cls && !existsSync(join(OUT, t.rel)))));
  stillQueue.splice(0, stillQueue.length, ...existing, ...byClass(stillQueue));
  // Games first: they are the only source of their class and run in real time.
  const sessionQueue = interleave(CLASSES.map((cls) => [...sessions.values()].filter((g) => g[0]!.c.classId === cls)))
    .sort((a, b) => Number(b[0]!.c.classId === 'gaming') - Number(a[0]!.c.classId === 'gaming'))
    .map((g) => g.filter((t) => !existsSync(join(OUT, t.rel))))
    .filter((g) => g.length > 0);
  const captureLane = async (): Promise<void> => {
    for (let group = sessionQueue.shift(); group; group = sessionQueue.shift()) for (const item of group) await finish(item);
  };
  const stillLane = async (): Promise<void> => {
    for (let item = stillQueue.shift(); item; item = stillQueue.shift()) await finish(item);
  };
  const lanes = Number(opts.jobs);
  await Promise.all([
    ...Array.from({ length: Number(opts['capture-lanes']) }, () => captureLane()),
    ...Array.from({ length: Math.max(1, lanes - 1) }, () => stillLane()),
  ]);
  writeLabels(rows);
  mkdirSync(WORK, { recursive: true });
  writeFileSync(BLACK_CACHE, JSON.stringify(blackCache));
  const stats: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    stats[r.class] ??= {};
    stats[r.class]![r.subclass] = (stats[r.class]![r.subclass] ?? 0) + 1;
  }
  const sources: Record<string, number> = {};
  for (const r of rows) sources[r.class] = (sources[r.class] ?? 0) + 0;
  for (const cls of CLASSES) sources[cls] = new Set(rows.filter((r) => r.class === cls).map((r) => r.source)).size;
  writeFileSync(
    join(OUT, 'stats.json'),
    JSON.stringify({ clips: rows.length, failed, droppedBlack: dropped, perSubclass: stats, sourcesPerClass: sources }, null, 1),
  );
  log(`wrote ${rows.length} clips (${failed} failed, ${dropped.length} dropped as black); sources per class ${JSON.stringify(sources)}`);
  for (const cls of CLASSES) {
    const short = dropped.filter((d) => d.class === cls);
    if (short.length === 0) continue;
    const bySource = new Map<string, number>();
    for (const d of short) bySource.set(d.source, (bySource.get(d.source) ?? 0) + 1);
    log(
      `${cls}: ${rows.filter((r) => r.class === cls).length} of ${PER_CLASS} clips, ${short.length} short for black clips (${[...bySource]
        .map(([s, n]) => `${s} -${n}`)
        .join(', ')})`,
    );
  }
  // Clips of an earlier build that this allocation no longer picks would be unlabelled: remove.
  const keep = new Set(rows.map((r) => r.path));
  let removed = 0;
  for (const sub of existsSync(join(OUT, 'clips')) ? readdirSync(join(OUT, 'clips')) : [])
    for (const f of readdirSync(join(OUT, 'clips', sub)))
      if (!keep.has(`clips/${sub}/${f}`)) {
        rmSync(join(OUT, 'clips', sub, f), { force: true });
        removed++;
      }
  if (removed > 0) log(`removed ${removed} clips that are no longer allocated`);
  writeFileSync(join(OUT, 'stats.md'), statsMarkdown(rows, dropped));
  await contactSheets(rows);
  log(`contact sheets in ${relative(process.cwd(), join(OUT, 'contact'))}`);
}

/** Measures every clip in labels.csv as the build would and prints the paths it would drop. */
async function checkBlack(): Promise<void> {
  const lines = readFileSync(join(OUT, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  const live = opts['live-only']
    ? new Set(
        (JSON.parse(readFileSync(join(OUT, 'provenance.json'), 'utf8')) as { clips: ProvenanceRow[] }).clips
          .filter((r) => r.treatment === 'live capture')
          .map((r) => r.path),
      )
    : undefined;
  const queue = lines.map((l) => l.split(',') as [string, ClassId, string, string]).filter(([path]) => !live || live.has(path));
  const total = queue.length;
  const flagged: string[] = [];
  let measured = 0;
  const started = Date.now();
  const lane = async (): Promise<void> => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const [path, cls, , source] = row;
      const m = await measureBlack(join(OUT, path));
      if (++measured % 100 === 0) log(`${measured}/${total} clips measured`);
      if (m.black > 0) log(`${isMostlyBlack(m) ? 'WOULD DROP' : 'keep'} ${path} (${cls}/${source}): ${describeBlack(m)}`);
      if (isMostlyBlack(m)) flagged.push(path);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(opts.jobs)) }, () => lane()));
  for (const p of flagged.sort()) console.log(p);
  log(
    `${flagged.length} of ${total} ${live ? 'live-capture ' : ''}clips (of ${lines.length} in labels.csv) would be dropped as black; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

await (opts['check-black'] ? checkBlack() : main());
