/** Command-line inputs -> video files: files as given, directories walked for video extensions. */
import { existsSync, readdirSync, statSync } from 'node:fs';
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
]);

/** Expands inputs in order, directories sorted and recursive; `missing` lists inputs that do not exist. */
export function collectInputs(inputs: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st?.isFile() && VIDEO_EXTENSIONS.has(extname(name).toLowerCase())) files.push(p);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) missing.push(input);
    else if (statSync(input).isDirectory()) walk(input);
    else files.push(input);
  }
  return { files: [...new Set(files)], missing };
}
