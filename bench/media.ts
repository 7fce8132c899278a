/**
 * The bench's clips, made once with Debian's ffmpeg into bench/work/media (git-ignored) and reused.
 * Long clips are stream-copied repeats of the 60 s clip (concat demuxer, no re-encode): a 1 h 720p
 * H.264 file costs seconds to make and decodes like any long upload (large GOP, no B-frame tricks).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Clip {
  id: string;
  file: string;
  durationS: number;
  width: number;
  height: number;
  codec: string;
  container: string;
  /** How it was made, for RESULTS.md. */
  recipe: string;
}

const FFMPEG = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
/** x264 as a phone or screen recorder would: veryfast, CRF 26, keyframe every 250 frames (x264's default GOP). */
const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-g', '250', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];

function ffmpeg(args: string[], out: string): void {
  const tmp = out.replace(/(\.\w+)$/, '.part$1');
  const r = spawnSync('nice', ['-n', '5', 'ffmpeg', ...FFMPEG, ...args, tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`ffmpeg failed (${r.status}) making ${out}`);
  renameSync(tmp, out);
}

function concat(parts: string[], out: string, dir: string): void {
  const list = join(dir, `${out.split('/').pop()}.txt`);
  writeFileSync(list, parts.map((p) => `file '${p}'`).join('\n') + '\n');
  ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-movflags', '+faststart'], out);
}

const lavfi = (src: string, w: number, h: number, seconds: number) => [
  '-f',
  'lavfi',
  '-i',
  `${src}=size=${w}x${h}:rate=30`,
  '-t',
  String(seconds),
];

/** Batch sources: different pictures so that no two files share a fingerprint (no feature-cache hits). */
const BATCH_SOURCES = ['testsrc2', 'smptehdbars', 'gradients', 'rgbtestsrc', 'testsrc', 'cellauto', 'life', 'sierpinski', 'colorspectrum'];

/** Makes (if missing) and lists every clip. Idempotent: existing non-empty files are kept. */
export function ensureMedia(workDir: string, log: (s: string) => void): { clips: Clip[]; batch: Clip[] } {
  const dir = join(workDir, 'media');
  mkdirSync(join(dir, 'batch'), { recursive: true });
  const have = (f: string) => existsSync(f) && statSync(f).size > 0;
  const make = (f: string, fn: () => void) => {
    if (have(f)) return;
    log(`making ${f}`);
    fn();
  };
  const h264 = (s: number) => join(dir, `h264_720p30_${s}s.mp4`);

  make(h264(10), () => ffmpeg([...lavfi('testsrc2', 1280, 720, 10), ...H264], h264(10)));
  make(h264(60), () => ffmpeg([...lavfi('testsrc2', 1280, 720, 60), ...H264], h264(60)));
  make(h264(600), () => concat(Array(10).fill(h264(60)), h264(600), dir));
  make(h264(3600), () => concat(Array(6).fill(h264(600)), h264(3600), dir));
  const vp9 = join(dir, 'vp9_1080p30_10s.webm');
  make(vp9, () =>
    ffmpeg(
      [
        ...lavfi('testsrc2', 1920, 1080, 10),
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-row-mt',
        '1',
        '-b:v',
        '3M',
        '-g',
        '250',
      ],
      vp9,
    ),
  );
  // MPEG-4 Part 2 in AVI: neither mediabunny nor WebCodecs opens it, so the app takes the ffmpeg.wasm path.
  const avi = join(dir, 'mpeg4_720p30_10s.avi');
  make(avi, () => ffmpeg([...lavfi('testsrc2', 1280, 720, 10), '-c:v', 'mpeg4', '-q:v', '5', '-g', '250'], avi));

  const recipe264 = 'lavfi testsrc2, libx264 veryfast CRF 26, GOP 250';
  const clips: Clip[] = [
    { id: 'h264-720p-10s', file: h264(10), durationS: 10, width: 1280, height: 720, codec: 'h264', container: 'mp4', recipe: recipe264 },
    { id: 'h264-720p-60s', file: h264(60), durationS: 60, width: 1280, height: 720, codec: 'h264', container: 'mp4', recipe: recipe264 },
    {
      id: 'h264-720p-10min',
      file: h264(600),
      durationS: 600,
      width: 1280,
      height: 720,
      codec: 'h264',
      container: 'mp4',
      recipe: '10 x the 60 s clip, stream-copied',
    },
    {
      id: 'h264-720p-1h',
      file: h264(3600),
      durationS: 3600,
      width: 1280,
      height: 720,
      codec: 'h264',
      container: 'mp4',
      recipe: '6 x the 10 min clip, stream-copied',
    },
    {
      id: 'vp9-1080p-10s',
      file: vp9,
      durationS: 10,
      width: 1920,
      height: 1080,
      codec: 'vp9',
      container: 'webm',
      recipe: 'lavfi testsrc2, libvpx-vp9 realtime cpu-used 8, 3 Mb/s',
    },
    {
      id: 'mpeg4-avi-720p-10s',
      file: avi,
      durationS: 10,
      width: 1280,
      height: 720,
      codec: 'mpeg4',
      container: 'avi',
      recipe: 'lavfi testsrc2, mpeg4 q 5 in AVI (ffmpeg.wasm path)',
    },
  ];

  const batch: Clip[] = [];
  for (let i = 0; i < 20; i++) {
    const src = BATCH_SOURCES[i % BATCH_SOURCES.length]!;
    const f = join(dir, 'batch', `clip_${String(i + 1).padStart(2, '0')}_${src}.mp4`);
    // A per-clip hue rotation makes clips from the same source distinct files.
    make(f, () => ffmpeg([...lavfi(src, 1280, 720, 10), '-vf', `hue=h=${i * 17}`, ...H264], f));
    batch.push({
      id: `batch-${i + 1}`,
      file: f,
      durationS: 10,
      width: 1280,
      height: 720,
      codec: 'h264',
      container: 'mp4',
      recipe: `${src}, hue ${i * 17}`,
    });
  }
  return { clips, batch };
}
