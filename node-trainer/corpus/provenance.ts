/** Package facts for the provenance manifest: version, licence, owner of a file. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * Sources kept for measuring vidkind's published accuracy. They must never reach training,
 * tuning or tests; the builder refuses any clip whose package or path matches.
 */
export const RESERVED_FOR_EVALUATION: readonly RegExp[] = [
  /^opencv-doc$/,
  /^renpy-demo$/,
  /^python-kivy-examples$/,
  /^mate-backgrounds$/,
  /^python3-skimage/,
  /scikit-image/,
  /^freedoom$/,
  /^chocolate-doom$/,
  /beneath-a-steel-sky/,
  /flight-of-the-amazon-queen/,
  /^synfig-examples$/,
  /^gcompris-qt-data$/,
  /^gnome-user-docs$/,
  /^texlive-latex-recommended-doc$/,
  /^gnumeric-doc$/,
  /^kicad-doc-/,
];

/** Path fragments of the same reserved sources, for files reached without a package name. */
const RESERVED_PATHS: readonly RegExp[] = [
  /opencv/i,
  /renpy\/demo|renpy-demo/i,
  /kivy/i,
  /mate-backgrounds|backgrounds\/mate/i,
  /skimage|scikit-image/i,
  /freedoom|chocolate-doom/i,
  /beneath-a-steel-sky|\/sky\.(cpt|dnr)|amazon-queen|queen\.1c|fotaq/i,
  /synfig/i,
  /gcompris/i,
  /gnome-user-docs|help\/[^/]+\/gnome-help/i,
  /gnumeric\/.*doc|doc\/gnumeric/i,
  /kicad/i,
];

/** Throws if a package or a path belongs to a source reserved for evaluation. */
export function refuseReserved(pkg: string, path: string): void {
  if (RESERVED_FOR_EVALUATION.some((re) => re.test(pkg))) throw new Error(`refusing ${pkg}: reserved for evaluation (shared/FACTS.md)`);
  const base = path.replace(/^\/usr\/share\/doc\/texlive-doc\//, '');
  // The texlive-latex-recommended-doc files live in the shared texlive-doc tree: check the owner.
  if (path.startsWith('/usr/share/doc/texlive-doc/') && pkg !== 'texlive-latex-extra-doc' && pkg !== 'texlive-publishers-doc')
    throw new Error(`refusing ${path}: texlive documentation other than the extra and publishers sets is not vetted`);
  if (RESERVED_PATHS.some((re) => re.test(base)) && !ALLOWED_DESPITE_NAME.has(path))
    throw new Error(`refusing ${path}: looks like a source reserved for evaluation`);
}

/** Files whose names merely contain a reserved word (checked by hand). */
const ALLOWED_DESPITE_NAME = new Set<string>();

const versions = new Map<string, string>();
const licences = new Map<string, string>();

/** Installed version of a package (dpkg-query). */
export function packageVersion(pkg: string): string {
  let v = versions.get(pkg);
  if (v === undefined) {
    try {
      v = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
    } catch {
      v = 'not-installed';
    }
    versions.set(pkg, v);
  }
  return v;
}

/** The licence names that the package's copyright file states (DEP-5 `License:` lines), joined. */
export function packageLicence(pkg: string): string {
  let l = licences.get(pkg);
  if (l === undefined) {
    const file = `/usr/share/doc/${pkg}/copyright`;
    if (!existsSync(file)) l = 'unknown (no copyright file)';
    else {
      const text = readFileSync(file, 'utf8');
      const names = [...new Set([...text.matchAll(/^License:\s*(\S[^\n]*)$/gm)].map((m) => m[1]!.trim()))];
      l = names.length > 0 ? names.join('; ') : `see ${file}`;
    }
    licences.set(pkg, l);
  }
  return l;
}

/** Lists the files a package installed. */
export function packageFiles(pkg: string): string[] {
  try {
    return execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\n')
      .filter((p) => p.length > 0);
  } catch {
    return [];
  }
}
