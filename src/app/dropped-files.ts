/** Files from a drop or a picker, with folders walked; non-video files found inside folders are skipped. */

export interface PickedFile {
  file: File;
  /** Path inside a dropped or picked folder, else the file name. */
  path: string;
}

const VIDEO_EXTENSIONS = new Set([
  'mp4',
  'm4v',
  'mov',
  'qt',
  'webm',
  'mkv',
  'avi',
  'ts',
  'mts',
  'm2ts',
  'mpg',
  'mpeg',
  'flv',
  '3gp',
  '3g2',
  'ogv',
  'wmv',
  'asf',
  // Animated GIFs are short animations too (a still GIF is classified from its one frame).
  'gif',
]);

/** True for files that look like videos by MIME type or extension. */
export function looksLikeVideo(file: File): boolean {
  if (file.type.startsWith('video/')) return true;
  const ext = file.name.toLowerCase().split('.').pop() ?? '';
  return VIDEO_EXTENSIONS.has(ext);
}

/**
 * Splits folder contents into videos and the count of skipped other files; loose files are all kept.
 * `models`: the skipped files, when they look like a models folder (`vidkind export`: a
 * manifest.json and ONNX files), for the app to offer running them.
 */
export function keepVideos(files: PickedFile[]): { files: PickedFile[]; skipped: number; models: PickedFile[] | null } {
  const kept: PickedFile[] = [];
  const others: PickedFile[] = [];
  for (const f of files) (!f.path.includes('/') || looksLikeVideo(f.file) ? kept : others).push(f);
  const name = (f: PickedFile) => f.path.split('/').at(-1)!.toLowerCase();
  const models = others.some((f) => name(f) === 'manifest.json') && others.some((f) => name(f).endsWith('.onnx')) ? others : null;
  return { files: kept, skipped: others.length, models };
}

/** Reads every file of a drop, descending into folders. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(dt.files).map((file) => ({ file, path: file.name }));
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, path: entry.fullPath.replace(/^\//, '') || file.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

/** Files from an <input type=file> (with `webkitdirectory` they carry their relative path). */
export function filesFromInput(list: FileList): PickedFile[] {
  return Array.from(list).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}
