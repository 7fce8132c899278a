/** Maps what ffmpeg/ffprobe print on stderr to vidkind's stable error codes. */
import { VidkindError, type ErrorCode } from '../../../src/core/errors.ts';

const PATTERNS: Array<[RegExp, ErrorCode]> = [
  [
    /Decoder \(codec [^)]*\) not found|No decoder for|Unknown decoder|Could not find codec parameters|unsupported codec|Codec .* is not supported/i,
    'unsupported-codec',
  ],
  [
    /Invalid data found when processing input|moov atom not found|EBML header parsing failed|could not find corresponding trex|Error while decoding|corrupt|truncat|End of file/i,
    'corrupt-file',
  ],
  [/does not contain any stream|Stream map .* matches no streams|Output file #0 does not contain any stream/i, 'no-video-track'],
];

/** The last meaningful stderr line, for a message a person can read. */
export function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .filter((l) => l && !/^(Press \[q\]|frame=|\s*Stream #|Input #|Output #)/.test(l));
  return lines[lines.length - 1] ?? 'no message';
}

/** An error value for a failed ffmpeg/ffprobe run on `file`. */
export function ffmpegError(file: string, stderr: string, fallback: ErrorCode = 'corrupt-file'): VidkindError {
  const code = PATTERNS.find(([re]) => re.test(stderr))?.[1] ?? fallback;
  const detail = lastLine(stderr);
  const what: Record<string, string> = {
    'unsupported-codec': 'uses a codec this ffmpeg cannot decode',
    'corrupt-file': 'is damaged or not a video file',
    'no-video-track': 'has no video track',
  };
  return new VidkindError(code, `${file} ${what[code] ?? 'could not be decoded'} (ffmpeg: ${detail}).`);
}
