/**
 * Labels from a folder layout, for people who sort their videos into folders rather than write a
 * labels CSV (`vidkind fit --videos DIR` without `--labels`):
 *
 *   DIR/<class>/[<subclass>/]<source folders…>/<video>
 *
 * `<class>` is a class id (animation, gaming, natural, flat; any letter case). A next folder named
 * like one of that class's subclass ids (the taxonomy's) gives the subclass. The folders below that
 * are the source: clips in one folder stay together in one split, so put the clips of one video,
 * channel, game or deck in one folder. A video directly in its class (or subclass) folder is a
 * source of its own.
 */
import { relative, sep } from 'node:path';
import { CLASS_IDS, type ClassId, type Taxonomy } from '../../../src/core/taxonomy.ts';
import { collectInputs } from '../classify/inputs.ts';
import type { LabelRow } from './labels.ts';

export interface FolderLabels {
  rows: LabelRow[];
  /** Videos outside a class folder (in DIR itself or under a folder that names no class), not used. */
  skipped: string[];
  /** Folders that could not be read, with the reason (collectInputs). */
  unreadable: string[];
}

/** The label of one video from its path relative to the videos folder ('/'-separated), or null outside a class folder. */
export function labelFromPath(path: string, taxonomy: Taxonomy): Omit<LabelRow, 'file'> | null {
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) return null;
  const cls = parts[0]!.toLowerCase();
  if (!(CLASS_IDS as readonly string[]).includes(cls)) return null;
  const subclasses = taxonomy.classes.find((c) => c.id === cls)?.subclasses ?? [];
  let rest = parts.slice(1);
  let subclass = '';
  if (rest.length > 1) {
    const named = subclasses.find((s) => s.id === rest[0]!.toLowerCase());
    if (named) {
      subclass = named.id;
      rest = rest.slice(1);
    }
  }
  // The video's folder, when it lies below its class (or subclass) folder; else the video itself.
  const source = rest.length > 1 ? parts.slice(0, -1).join('/') : parts.join('/');
  return { path, class: cls as ClassId, subclass, source };
}

/** Walks `videosDir` for videos (the extensions `vidkind classify` takes) and labels them by their folders. */
export function labelsFromFolders(videosDir: string, taxonomy: Taxonomy): FolderLabels {
  const { files, unreadable } = collectInputs([videosDir]);
  const rows: LabelRow[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const path = relative(videosDir, file).split(sep).join('/');
    const label = labelFromPath(path, taxonomy);
    if (label) rows.push({ ...label, file });
    else skipped.push(path);
  }
  return { rows, skipped, unreadable };
}
