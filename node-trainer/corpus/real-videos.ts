/**
 * A check set of real videos, never trained on: every video that a Debian package ships (found with
 * `apt-file search`, bookworm) and that passes the rules below, labelled by looking at it. The
 * training corpus has no camera footage at all (natural content there is moving stills), so this
 * set is where the default models meet real footage, real screen recordings and real animation.
 *
 * The rules, fixed before any verdict was seen, except the last (see the README):
 * - the package is not reserved for evaluation (provenance.ts) and is not a source of the training
 *   corpus (packages.txt);
 * - the video is at least 4 s long and its package downloads in under 100 MB;
 * - it plainly shows one of the four kinds (test patterns, blank screens, logos of a second and
 *   sound-only files are left out), and one copy of each (the C locale of translated help, one
 *   container of a file shipped in three).
 *
 * `vidkind corpus real-videos --out DIR` downloads the packages (`apt-get download`, nothing is
 * installed), copies the videos to DIR/videos under neutral names, and writes DIR/labels.csv and
 * DIR/provenance.json; `vidkind check --labels DIR/labels.csv` then scores any exported models on them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ClassId } from '../../src/core/taxonomy.ts';
import { labelsCsv } from '../src/extract/labels.ts';
import { refuseReserved } from './provenance.ts';

export interface RealVideo {
  pkg: string;
  /** Path inside the package. */
  path: string;
  class: ClassId;
  subclass: string;
  /** As the package's debian/copyright states it for this file. */
  licence: string;
  what: string;
}

const v = (pkg: string, path: string, cls: ClassId, subclass: string, licence: string, what: string): RealVideo => ({
  pkg,
  path,
  class: cls,
  subclass,
  licence,
  what,
});

const LEBINIOU = [
  '12-17-47',
  '12-19-19',
  '12-19-53',
  '12-23-00',
  '12-23-40',
  '12-24-29',
  '12-27-01',
  '12-27-41',
  '12-28-28',
  '12-32-58',
  '12-34-46',
  '12-35-23',
];
const BLUPI = [
  'history2',
  'play101',
  'play103',
  'play105',
  'play107',
  'play108',
  'play110',
  'play113',
  'play116',
  'play118',
  'play119',
  'play124',
  'win005',
  'win129',
];

export const REAL_VIDEOS: readonly RealVideo[] = [
  // Natural: camera footage.
  v(
    'python3-imageio',
    '/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4',
    'natural',
    'close-up',
    'BSD-2-Clause',
    'a cockatoo, hand-held camera',
  ),
  v(
    'python3-mecavideo',
    '/usr/share/pymecavideo/data/video/balle-jbart.mp4',
    'natural',
    '',
    'CC-BY-SA-3.0',
    'a ball thrown in a classroom, fixed camera, a title over it',
  ),
  v(
    'python-nbsphinx-doc',
    '/usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv',
    'natural',
    '',
    'public domain (Wikimedia Commons)',
    'a motor race, 1906 film',
  ),
  v(
    'pd-extendedview',
    '/usr/share/doc/pd-extendedview/media/diver.mov',
    'natural',
    'sky-and-water',
    'GPL-3+',
    'underwater, hand-held camera',
  ),
  // Animation.
  v('tupi-data', '/usr/share/tupi/data/help/examples/example.avi', 'animation', 'cartoon-2d', 'GPL-2+', 'a 2D cartoon made with Tupi'),
  v('pampi', '/usr/share/pampi/presentations/data/pampi-help/tour.mp4', 'animation', 'cgi-3d', 'GPL-3.0+', 'a 3D cartoon character'),
  v(
    'fillets-ng-data',
    '/usr/share/games/fillets-ng/images/menu/intro.mpg',
    'animation',
    'cgi-3d',
    'GPL-2+',
    "a game's rendered 3D intro film",
  ),
  ...BLUPI.map((n) =>
    v('planetblupi-common', `/usr/share/planetblupi/movie/${n}.mkv`, 'animation', 'cgi-3d', 'GPL-3+', "a game's rendered 3D cut-scene"),
  ),
  ...LEBINIOU.map((t) =>
    v(
      'lebiniou-data',
      `/usr/share/lebiniou/vue/media/lebiniou-2021-06-10_${t}.mp4`,
      'animation',
      'motion-graphics',
      'GPL-2+',
      'a music visualiser',
    ),
  ),
  v(
    'openboard-common',
    '/usr/share/openboard/library/videos/wannaworktogether.mp4',
    'animation',
    'motion-graphics',
    'GPL-3 with OpenSSL exception',
    'an animated explainer',
  ),
  v('coccinella', '/usr/share/coccinella/lib/FakeSample.mov', 'animation', 'motion-graphics', 'GPL-3+', 'an animated drawing'),
  v('hollywood', '/usr/share/hollywood/soundwave.mp4', 'animation', 'motion-graphics', 'Apache-2.0', 'an animated sound wave'),
  v(
    'libgtkmm-4.0-doc',
    '/usr/share/doc/libgtkmm-4.0-dev/examples/gtk-demo/gtk-logo.webm',
    'animation',
    'motion-graphics',
    'LGPL-2.1+',
    'an animated logo',
  ),
  // Gaming: recordings of play.
  v(
    'gnome-tetravex',
    '/usr/share/help/C/gnome-tetravex/figures/gnome-tetravex-video.ogv',
    'gaming',
    '',
    'CC-BY-SA-3.0',
    'Tetravex being played',
  ),
  v('lightsoff', '/usr/share/help/C/lightsoff/figures/lightsoff.ogv', 'gaming', '', 'CC-BY-SA-3.0', 'Lights Off being played'),
  v('five-or-more', '/usr/share/help/C/five-or-more/figures/glines-demo.ogv', 'gaming', '', 'CC-BY-SA-3.0', 'Five or More being played'),
  // Flat: screen recordings and slides.
  v(
    'forensics-samples-files',
    '/usr/share/forensics-samples/original-files/movie2/movie-hello.mp4',
    'flat',
    'code-terminal',
    'CC-BY-SA-4.0',
    'a terminal session, a webcam inset',
  ),
  v(
    'gnome-devel-docs',
    '/usr/share/help/C/gnome-devel-demos/media/message-board.ogv',
    'flat',
    'application-ui',
    'CC-BY-SA-3.0',
    'a small application in use',
  ),
  v(
    'gnome-devel-docs',
    '/usr/share/help/C/gnome-devel-demos/media/progressbar.ogv',
    'flat',
    'application-ui',
    'CC-BY-SA-3.0',
    'a progress bar widget',
  ),
  v(
    'gnome-devel-docs',
    '/usr/share/help/C/gnome-devel-demos/media/progressbar_fill.ogv',
    'flat',
    'application-ui',
    'CC-BY-SA-3.0',
    'a progress bar widget',
  ),
  v(
    'janus-demos',
    '/usr/share/janus/demos/surround/ChID-BLITS-EBU.mp4',
    'flat',
    'slides',
    'GPL-3 with OpenSSL exception',
    'diagram slides of a loudspeaker test',
  ),
  v('k3b-data', '/usr/share/k3b/extra/k3bphotovcd.mpg', 'flat', 'slides', 'GPL-2.0-or-later', 'a video CD menu page'),
];

/** Package names of the training corpus (packages.txt beside this file). */
export function trainingPackages(file = join(import.meta.dirname, 'packages.txt')): Set<string> {
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
}

/** Throws unless every listed video may be used here: not reserved, not from a training source. */
export function checkRules(videos: readonly RealVideo[], training: Set<string>): void {
  for (const x of videos) {
    refuseReserved(x.pkg, x.path);
    if (training.has(x.pkg)) throw new Error(`${x.pkg} is a source of the training corpus: its videos are not a check`);
  }
}

/** Downloads, unpacks and copies the videos; writes labels.csv and provenance.json. Returns the number of videos. */
export function buildRealVideos(out: string, log: (line: string) => void = console.error): number {
  checkRules(REAL_VIDEOS, trainingPackages());
  const debs = join(out, 'debs');
  const pkgs = join(out, 'pkgs');
  const videos = join(out, 'videos');
  for (const d of [debs, pkgs, videos]) mkdirSync(d, { recursive: true });
  const versions = new Map<string, string>();
  for (const pkg of new Set(REAL_VIDEOS.map((x) => x.pkg))) {
    let deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) {
      log(`real-videos: downloading ${pkg}`);
      execFileSync('apt-get', ['download', '-q', pkg], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
      deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${debs}`);
    }
    const root = join(pkgs, pkg);
    if (!existsSync(root)) execFileSync('dpkg-deb', ['-x', join(debs, deb), root]);
    versions.set(pkg, execFileSync('dpkg-deb', ['-f', join(debs, deb), 'Version'], { encoding: 'utf8' }).trim());
  }
  const labels: Array<{ path: string; class: ClassId; subclass: string; source: string }> = [];
  const provenance = REAL_VIDEOS.map((x, i) => {
    const file = `rv-${String(i + 1).padStart(3, '0')}${extname(x.path)}`;
    const from = join(pkgs, x.pkg, x.path);
    if (!existsSync(from)) throw new Error(`${x.pkg} ${versions.get(x.pkg)} has no ${x.path}`);
    copyFileSync(from, join(videos, file));
    labels.push({ path: `videos/${file}`, class: x.class, subclass: x.subclass, source: x.pkg });
    return {
      file: `videos/${file}`,
      package: x.pkg,
      version: versions.get(x.pkg),
      path: x.path,
      licence: x.licence,
      class: x.class,
      what: x.what,
    };
  });
  writeFileSync(join(out, 'labels.csv'), labelsCsv(labels));
  writeFileSync(join(out, 'provenance.json'), JSON.stringify(provenance, null, 2) + '\n');
  log(`real-videos: ${REAL_VIDEOS.length} videos from ${versions.size} packages in ${videos}; labels in ${join(out, 'labels.csv')}`);
  return REAL_VIDEOS.length;
}
