/** Command-line inputs -> video files: files as given, directories walked for video extensions. */
import { existsSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { extname, join } from 'node:path';

/** Extensions picked up when walking a directory (a file named explicitly is always tried). */
export const VIDEO_EXTENSIONS = new Set([
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.webm',
  '.avi',
  '.ts',
  '.mts',
  '.m2ts',
  '.mpg',
  '.mpeg',
  '.flv',
  '.3gp',
  '.3g2',
  '.wmv',
  '.ogv',
  '.asf',
  '.vob',
  '.gif',
]);

/** What the command-line inputs name. */
export interface Inputs {
  files: string[];
  /** Inputs that do not exist. */
  missing: string[];
  /** Folders (or entries) met while walking that could not be read, with the reason: skipped, the rest goes on. */
  unreadable: string[];
}

/**
 * Expands inputs in order, directories sorted and recursive. Links to folders are followed, but no
 * folder is walked twice: a link back up the tree (a loop) would otherwise never end.
 */
export function collectInputs(inputs: string[]): Inputs {
  const files: string[] = [];
  const missing: string[] = [];
  const unreadable: string[] = [];
  const walked = new Set<string>();
  const why = (p: string, e: unknown) => unreadable.push(`${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  const walk = (dir: string) => {
    let names: string[];
    try {
      const real = realpathSync(dir);
      if (walked.has(real)) return;
      walked.add(real);
      // As bytes: a name that is not UTF-8 (an old archive's Latin-1) would come back with U+FFFD in
      // it, a path that does not exist, and the video would vanish from the batch without a word.
      names = readdirSync(dir, { encoding: 'buffer' })
        .flatMap((raw) => {
          const name = raw.toString('utf8');
          if (Buffer.from(name, 'utf8').equals(raw)) return [name];
          unreadable.push(`${join(dir, name)} (its name is not UTF-8 text: rename it)`);
          return [];
        })
        .sort();
    } catch (e) {
      why(dir, e);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      const video = VIDEO_EXTENSIONS.has(extname(name).toLowerCase());
      let st: Stats | undefined;
      try {
        st = statSync(p, { throwIfNoEntry: false });
      } catch (e) {
        // A link in a cycle of links (ELOOP), an entry we may not look at (EACCES).
        why(p, e);
        continue;
      }
      if (st?.isDirectory()) walk(p);
      else if (st?.isFile() && video) files.push(p);
      // A video's name whose link points nowhere.
      else if (!st && video) unreadable.push(`${p} (a link to a file that does not exist)`);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) missing.push(input);
    else if (statSync(input).isDirectory()) walk(input);
    else files.push(input);
  }
  return { files: [...new Set(files)], missing, unreadable };
}
