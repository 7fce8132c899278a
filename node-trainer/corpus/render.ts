/**
 * ffmpeg recipes that turn real media into corpus clips. Every class goes through the same
 * recipes with the same seeded choices, so codec, container, size, frame rate, framing and the
 * zoom/pan of stills carry no information about the label.
 */
import { spawn } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { type Random, uniform, weighted } from './seeded.ts';

/** How one clip is encoded. */
export interface Encoding {
  width: number;
  height: number;
  fps: number;
  container: 'mp4' | 'webm' | 'mkv' | 'mov';
  codec: 'h264' | 'vp9' | 'vp8';
  crf: number;
  /** x264 speed preset (ignored by VP8/VP9). */
  preset: string;
}

/** Letterboxing of a picture whose aspect is not 16:9: fill (crop) or fit (bars). */
export interface Framing {
  mode: 'cover' | 'contain';
  background: string;
}

/** The seeded Ken Burns move given to every still, whatever its class. */
export interface StillMotion {
  zoomFrom: number;
  zoomTo: number;
  panFrom: [number, number];
  panTo: [number, number];
}

/** Picks the container, codec, size and frame rate of a clip. */
export function pickEncoding(rand: Random): Encoding {
  const [container, codec] = weighted<[Encoding['container'], Encoding['codec']]>(rand, [
    [['mp4', 'h264'], 0.6],
    [['webm', 'vp9'], 0.14],
    [['mkv', 'h264'], 0.1],
    [['mov', 'h264'], 0.08],
    [['webm', 'vp8'], 0.04],
    [['mkv', 'vp9'], 0.04],
  ]);
  const [width, height] = weighted<[number, number]>(rand, [
    [[640, 360], 0.6],
    [[854, 480], 0.4],
  ]);
  const fps = weighted(rand, [
    [15, 0.3],
    [24, 0.3],
    [25, 0.2],
    [30, 0.2],
  ]);
  const crf = Math.round(codec === 'h264' ? uniform(rand, 19, 28) : uniform(rand, 30, 40));
  // Drawn last so that adding it kept every earlier choice of existing clips.
  const preset = weighted(rand, [
    ['ultrafast', 0.4],
    ['superfast', 0.4],
    ['veryfast', 0.2],
  ]);
  return { width, height, fps, container, codec, crf, preset };
}

/** Picks how a non-16:9 picture is framed (same odds for stills and captures of every class). */
export function pickFraming(rand: Random): Framing {
  const mode = rand() < 0.7 ? 'cover' : 'contain';
  const background = weighted(rand, [
    ['black', 0.6],
    ['0x202020', 0.2],
    ['0x808080', 0.1],
    ['white', 0.1],
  ]);
  return { mode, background };
}

/** Picks the zoom/pan of a still: sometimes nearly static, sometimes a zoom, sometimes a pan. */
export function pickMotion(rand: Random): StillMotion {
  const style = weighted(rand, [
    ['static', 0.15],
    ['zoom-in', 0.3],
    ['zoom-out', 0.25],
    ['pan', 0.3],
  ]);
  const p = (): [number, number] => [rand(), rand()];
  const z = (): number => uniform(rand, 1.0, 1.35);
  switch (style) {
    case 'static': {
      const at = p();
      const zoom = uniform(rand, 1.0, 1.1);
      return { zoomFrom: zoom, zoomTo: zoom, panFrom: at, panTo: at };
    }
    case 'zoom-in':
      return { zoomFrom: uniform(rand, 1.0, 1.08), zoomTo: z() + 0.1, panFrom: p(), panTo: p() };
    case 'zoom-out':
      return { zoomFrom: z() + 0.1, zoomTo: uniform(rand, 1.0, 1.08), panFrom: p(), panTo: p() };
    default: {
      const zoom = uniform(rand, 1.15, 1.45);
      return { zoomFrom: zoom, zoomTo: zoom, panFrom: p(), panTo: p() };
    }
  }
}

const f = (x: number): string => x.toFixed(4);

/** Filter chain for one still shown for `frames` frames with a zoom/pan, ending in [out]. */
export function stillChain(input: string, out: string, enc: Encoding, framing: Framing, motion: StillMotion, frames: number): string {
  // Zoompan crops whole pixels: working at 1.5x the output size keeps the move smooth enough
  // without the cost of 2x.
  const W = Math.round((enc.width * 1.5) / 2) * 2;
  const H = Math.round((enc.height * 1.5) / 2) * 2;
  const fit =
    framing.mode === 'cover'
      ? `scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H}`
      : `scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:color=${framing.background}`;
  const n = Math.max(1, frames - 1);
  const lerp = (a: number, b: number): string => `(${f(a)}+(${f(b - a)})*on/${n})`;
  const zoom = lerp(motion.zoomFrom, motion.zoomTo);
  const x = `(iw-iw/zoom)*${lerp(motion.panFrom[0], motion.panTo[0])}`;
  const y = `(ih-ih/zoom)*${lerp(motion.panFrom[1], motion.panTo[1])}`;
  return `[${input}]${fit},setsar=1,zoompan=z='${zoom}':x='${x}':y='${y}':d=${frames}:s=${enc.width}x${enc.height}:fps=${enc.fps},format=yuv420p[${out}]`;
}

/** Arguments that encode [v] and drop audio, subtitles and every piece of metadata. */
export function outputArgs(enc: Encoding, duration: number, outPath: string): string[] {
  const codec =
    enc.codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', enc.preset, '-crf', String(enc.crf), '-pix_fmt', 'yuv420p']
      : enc.codec === 'vp9'
        ? ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '0', '-crf', String(enc.crf), '-pix_fmt', 'yuv420p']
        : [
            '-c:v',
            'libvpx',
            '-deadline',
            'realtime',
            '-cpu-used',
            '8',
            '-b:v',
            '1200k',
            '-crf',
            String(Math.min(enc.crf, 40)),
            '-pix_fmt',
            'yuv420p',
          ];
  const mux = enc.container === 'mp4' || enc.container === 'mov' ? ['-movflags', '+faststart'] : [];
  return [
    '-map',
    '[v]',
    '-t',
    duration.toFixed(2),
    '-r',
    String(enc.fps),
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-fflags',
    '+bitexact',
    '-flags:v',
    '+bitexact',
    '-threads',
    '1',
    ...codec,
    ...mux,
    '-f',
    enc.container === 'mkv' ? 'matroska' : enc.container,
    outPath,
  ];
}

/** ffmpeg arguments for a moving still (one picture) or a slide-show (several, hard cuts). */
export function slideshowArgs(
  images: string[],
  enc: Encoding,
  framing: Framing,
  motions: StillMotion[],
  duration: number,
  outPath: string,
): string[] {
  const seg = duration / images.length;
  // One decoded frame per picture: zoompan emits every output frame from it, so a large photo is
  // decoded and scaled once rather than once per frame.
  const inputs = images.flatMap((img) => ['-i', img]);
  const frames = Math.round(seg * enc.fps);
  const chains = images.map((_, i) => stillChain(`${i}:v`, `s${i}`, enc, framing, motions[i]!, frames));
  const join = images.length === 1 ? `[s0]null[v]` : `${images.map((_, i) => `[s${i}]`).join('')}concat=n=${images.length}:v=1:a=0[v]`;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...inputs,
    '-filter_complex',
    [...chains, join].join(';'),
    ...outputArgs(enc, duration, outPath),
  ];
}

/** How a tall (or wide) picture is scrolled: smooth, or in wheel-like steps. */
export interface Scroll {
  direction: 'down' | 'right';
  start: number;
  /** Fraction of the scrollable length covered in the clip. */
  span: number;
  steps: number;
}

/** Picks a scroll through a long page or a panorama. */
export function pickScroll(rand: Random, direction: Scroll['direction']): Scroll {
  return {
    direction,
    start: uniform(rand, 0, 0.5),
    span: uniform(rand, 0.15, 0.5),
    steps: rand() < 0.5 ? 0 : Math.round(uniform(rand, 4, 12)),
  };
}

/** ffmpeg arguments that scroll a window over a long picture (document pages, a panorama). */
export function scrollArgs(image: string, enc: Encoding, scroll: Scroll, duration: number, outPath: string): string[] {
  const W = enc.width;
  const H = enc.height;
  const progress = scroll.steps > 0 ? `floor(t/${f(duration / scroll.steps)})*${f(1 / scroll.steps)}` : `t/${f(duration)}`;
  const pos = `(${f(scroll.start)}+${f(scroll.span)}*${progress})`;
  const chain =
    scroll.direction === 'down'
      ? `[0:v]scale=${W}:-2,crop=${W}:${H}:0:'min(ih-${H},(ih-${H})*${pos})',setsar=1,format=yuv420p[v]`
      : `[0:v]scale=-2:${H},crop=${W}:${H}:'min(iw-${W},(iw-${W})*${pos})':0,setsar=1,format=yuv420p[v]`;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-framerate',
    String(enc.fps),
    '-t',
    duration.toFixed(3),
    '-i',
    image,
    '-filter_complex',
    chain,
    ...outputArgs(enc, duration, outPath),
  ];
}

/** ffmpeg arguments that cut a segment of a recording, framed like any other clip. */
export function cutArgs(recording: string, start: number, enc: Encoding, framing: Framing, duration: number, outPath: string): string[] {
  const W = enc.width;
  const H = enc.height;
  const fit =
    framing.mode === 'cover'
      ? `scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H}`
      : `scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:color=${framing.background}`;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-ss',
    start.toFixed(2),
    '-t',
    duration.toFixed(2),
    '-i',
    recording,
    '-filter_complex',
    `[0:v]fps=${enc.fps},${fit},setsar=1,format=yuv420p[v]`,
    ...outputArgs(enc, duration, outPath),
  ];
}

/** Runs a program at low priority; rejects with its stderr on failure. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.slice(-800)}`));
    });
  });
}

/** Runs ffmpeg into a temporary name and renames on success, so a killed build leaves no half clip. */
export async function ffmpegTo(args: string[], outPath: string): Promise<void> {
  const tmp = `${outPath}.part`;
  const fixed = args.map((a) => (a === outPath ? tmp : a));
  try {
    await run('ffmpeg', fixed, { timeoutMs: 300_000 });
    await rename(tmp, outPath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
