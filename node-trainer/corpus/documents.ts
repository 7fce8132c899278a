/**
 * Documents, slide decks and application screenshots shipped in Debian packages. PDFs are sorted
 * by page geometry: beamer-sized landscape pages are slides, portrait pages are documents.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageFiles } from './provenance.ts';

/** One PDF with its pages, the subclass its geometry implies and its source family. */
export interface Pdf {
  file: string;
  pkg: string;
  pages: number;
  subclass: 'slides' | 'documents';
  source: string;
}

/** A screenshot of an application. */
export interface Screenshot {
  file: string;
  pkg: string;
  source: string;
  subclass: 'application-ui' | 'code-terminal' | 'spreadsheets';
}

const DOC_PACKAGES = ['texlive-latex-extra-doc', 'texlive-publishers-doc', 'octave-doc', 'debian-edu-doc-en'] as const;

function pdfInfo(file: string): { w: number; h: number; pages: number } | undefined {
  try {
    const text = execFileSync('pdfinfo', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    const size = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(text);
    const pages = /Pages:\s+(\d+)/.exec(text);
    if (!size || !pages) return undefined;
    return { w: Number(size[1]), h: Number(size[2]), pages: Number(pages[1]) };
  } catch {
    return undefined;
  }
}

/** The family a PDF belongs to: its CTAN package folder, or the Debian package. */
function familyOf(pkg: string, file: string): string {
  const m = /\/texlive-doc\/[^/]+\/([^/]+)\//.exec(file);
  return m ? `${pkg}:${m[1]}` : pkg;
}

/** Every usable PDF of the document packages; pdfinfo results are cached under `work`. */
export function allPdfs(work: string): Pdf[] {
  const cache = join(work, 'pdfinfo.json');
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Pdf[];
  const out: Pdf[] = [];
  for (const pkg of DOC_PACKAGES) {
    for (const file of packageFiles(pkg).filter((f) => f.endsWith('.pdf'))) {
      const info = pdfInfo(file);
      if (!info) continue;
      const landscape = info.w > info.h * 1.2;
      // Beamer frames are 128 x 96 mm (363 x 272 pt) or 160 x 90 mm (454 x 255 pt).
      const beamer = landscape && info.w < 470 && info.w > 330 && info.pages >= 6;
      const portrait = info.h > info.w * 1.2 && info.pages >= 3;
      if (beamer) out.push({ file, pkg, pages: info.pages, subclass: 'slides', source: familyOf(pkg, file) });
      else if (portrait) out.push({ file, pkg, pages: info.pages, subclass: 'documents', source: familyOf(pkg, file) });
    }
  }
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, JSON.stringify(out));
  return out;
}

/** Renders one PDF page to PNG at the given width (cached). */
export function renderPage(work: string, pdf: string, page: number, width: number, id: string): string {
  const out = join(work, 'pages', `${id}-${page}-${width}`);
  const png = `${out}.png`;
  if (!existsSync(png)) {
    mkdirSync(dirname(out), { recursive: true });
    execFileSync(
      'nice',
      [
        '-n',
        '10',
        'pdftoppm',
        '-png',
        '-singlefile',
        '-f',
        String(page),
        '-l',
        String(page),
        '-scale-to-x',
        String(width),
        '-scale-to-y',
        '-1',
        pdf,
        out,
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
  }
  return png;
}

/** Screenshots of real applications in documentation packages (one source per manual). */
export function allScreenshots(): Screenshot[] {
  const out: Screenshot[] = [];
  const add = (pkg: string, source: string, re: RegExp, subclass: Screenshot['subclass'] = 'application-ui', skip?: RegExp): void => {
    for (const file of packageFiles(pkg)) if (re.test(file) && !(skip && skip.test(file))) out.push({ file, pkg, source, subclass });
  };
  // The handbook's English screenshots; its diagrams and logos are not screen recordings.
  add(
    'debian-handbook',
    'debian-handbook',
    /\/html\/en-US\/images\/(inst-[a-z-]+|aptitude|synaptic|gnome-packagekit|gnome|kde|xfce|lxde|lxqt|mate|cinnamon|evolution|firefox|thunderbird|kmail|fwbuilder|webmin|wireshark|testkvm)\.png$/,
    'application-ui',
    /-txt\.png$/,
  );
  add('debian-handbook', 'debian-handbook', /\/html\/en-US\/images\/inst-[a-z]+-txt\.png$/, 'code-terminal');
  add('debian-edu-doc-en', 'debian-edu-doc-en', /debian-edu-bookworm-manual-images\/.*\.png$/);
  add('gimp-help-en', 'gimp-help-en', /\/help\/en\/images\/dialogs\/[^/]+\.png$/);
  add('tuxpaint-data', 'tuxpaint-data', /\/doc\/tuxpaint-data\/html\/images\/(canvas|colors|open_dialog|selector|tips|tools)\.jpg$/);
  return out;
}
