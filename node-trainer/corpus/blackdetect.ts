/**
 * Measures how much of a clip is black, so the builder can drop clips that show nothing: a live
 * capture goes black when the game's window vanishes or a scene change lingers on a dark screen.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * A clip at least this share black is dropped. The classifier sees frames spread evenly over the
 * clip, so from here on most of them show nothing of the class; and since only live captures go
 * black, black frames would teach "black means whatever the capture was labelled". A fade or a
 * scene change of a second or two (well under half of a 6-10 s clip) is real footage and stays.
 */
export const MAX_BLACK_SHARE = 0.5;

/**
 * ffmpeg's blackdetect, not mean luma (signalstats YAVG): it counts the share of black pixels in
 * each frame, so a dark but detailed scene (a night level, a dark UI) or a few sprites on black (a
 * starfield, xgalaga's attract screen) is not black, while a blank screen with only a mouse cursor
 * still is. Its defaults (98% of pixels within 10% of the black level) are too loose for the
 * corpus: a scan of /work/corpus flagged a dark-navy beamer slide deck (luma ~6% above black) and
 * xscreensaver's morph3d, pipes and vermiculate (an object or thin lines on black, 0.2-2% of the
 * frame). So a pixel is black within 3% of the black level (encoder noise on a black screen stays
 * within it) and a frame is black when 99.8% of its pixels are (a 640x360 frame may hold ~460
 * other pixels: a cursor, not a drawing). d=0 reports every black run, however short; they are
 * summed.
 */
const BLACKDETECT = 'blackdetect=d=0:pic_th=0.998:pix_th=0.03';

/** Seconds of a clip and seconds of it that are black. */
export interface BlackMeasure {
  duration: number;
  black: number;
}

/** Decodes the clip's first video stream once with native ffmpeg and measures its black runs. */
export async function measureBlack(path: string): Promise<BlackMeasure> {
  // Black runs are logged on stderr; -progress writes the decoded duration (out_time_us, end of
  // the last frame) on stdout.
  const { stdout, stderr } = await execFileAsync(
    'nice',
    [
      '-n',
      '10',
      'ffmpeg',
      '-hide_banner',
      '-nostats',
      '-nostdin',
      '-threads',
      '1',
      '-i',
      path,
      '-map',
      '0:v:0',
      '-vf',
      BLACKDETECT,
      '-progress',
      'pipe:1',
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: 16 << 20, timeout: 120_000 },
  );
  let black = 0;
  for (const m of stderr.matchAll(/black_duration:([\d.]+)/g)) black += Number(m[1]);
  const times = [...stdout.matchAll(/^out_time_us=(\d+)$/gm)];
  const duration = Number(times.at(-1)?.[1] ?? Number.NaN) / 1e6;
  if (!(duration > 0)) throw new Error(`blackdetect: no video decoded from ${path}`);
  return { duration, black: Math.min(black, duration) };
}

/** Whether a clip is black for so much of its length that the corpus must not keep it. */
export function isMostlyBlack(m: BlackMeasure): boolean {
  return m.black >= MAX_BLACK_SHARE * m.duration;
}

/** One line saying how black a clip is, for logs. */
export function describeBlack(m: BlackMeasure): string {
  return `black ${m.black.toFixed(1)} of ${m.duration.toFixed(1)} s (${Math.round((100 * m.black) / m.duration)}%)`;
}
