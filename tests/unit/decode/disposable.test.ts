/**
 * Which H.264 packets are disposable, on real fixture files demuxed by mediabunny, checked against
 * ffmpeg's own H.264 decoder: `-skip_frame noref` decodes exactly the frames that some other frame
 * may reference, so (all frames - frames decoded with it) is the number of disposable frames.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ALL_FORMATS, EncodedPacketSink, FilePathSource, Input } from 'mediabunny';
import { describe, expect, it } from 'vitest';
import { avcFraming, isDisposableAvc, nalHeaders } from '../../../workers/decode/disposable';

const MEDIA = path.resolve('tests/fixtures/media');

function fixture(name: string): string {
  const file = path.join(MEDIA, name);
  if (!existsSync(file)) throw new Error(`${file} missing: run \`npm run fixtures\` first.`);
  return file;
}

function ffmpegFrameCount(file: string, skipNonReference: boolean): number {
  const skip = skipNonReference ? ['-skip_frame', 'noref'] : [];
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', ...skip, '-select_streams', 'v', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  // MPEG-TS lists the stream once per program: the first line is the count.
  return Number(out.trim().split(/\s+/)[0]);
}

async function classify(
  file: string,
): Promise<{ framing: ReturnType<typeof avcFraming>; packets: number; disposable: number; keys: number }> {
  const input = new Input({ source: new FilePathSource(file), formats: ALL_FORMATS });
  try {
    const track = (await input.getPrimaryVideoTrack())!;
    const framing = avcFraming((await track.getDecoderConfig())!.description);
    if (framing === 'unknown') throw new Error('unknown framing');
    const sink = new EncodedPacketSink(track);
    let packets = 0;
    let disposable = 0;
    let keys = 0;
    for await (const packet of sink.packets()) {
      packets++;
      if (packet.type === 'key') keys++;
      if (isDisposableAvc(packet.data, framing)) disposable++;
    }
    return { framing, packets, disposable, keys };
  } finally {
    input.dispose();
  }
}

describe('disposable H.264 frames in real files', () => {
  for (const [name, framing] of [
    ['h264.mp4', 4],
    ['long-gop.mp4', 4],
    ['h264.m2ts', null],
  ] as const) {
    it(`${name}: the same count as ffmpeg's -skip_frame noref (${framing === null ? 'Annex B' : 'AVCC'} framing)`, async () => {
      const file = fixture(name);
      const got = await classify(file);
      expect(got.framing).toBe(framing);
      const all = ffmpegFrameCount(file, false);
      expect(got.packets).toBe(all);
      expect(got.disposable).toBeGreaterThan(0);
      expect(got.disposable).toBe(all - ffmpegFrameCount(file, true));
    });
  }
});

describe('NAL parsing', () => {
  const nal = (ref: number, type: number, payload = [0x88, 0x84]) => [(ref << 5) | type, ...payload];
  const avcc = (...units: number[][]) => new Uint8Array(units.flatMap((u) => [0, 0, 0, u.length, ...u]));

  it('reads AVCC length prefixes and Annex B start codes', () => {
    expect(nalHeaders(avcc(nal(0, 6), nal(2, 1)), 4)).toEqual([0x06, 0x41]);
    expect(nalHeaders(new Uint8Array([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x01, 9]), null)).toEqual([0x67, 0x01]);
  });

  it('a non-reference slice (with SEI) is disposable; a reference slice, an IDR or a packet without slices is not', () => {
    expect(isDisposableAvc(avcc(nal(0, 6), nal(0, 1)), 4)).toBe(true);
    expect(isDisposableAvc(avcc(nal(0, 1), nal(1, 1)), 4)).toBe(false);
    expect(isDisposableAvc(avcc(nal(3, 5)), 4)).toBe(false);
    expect(isDisposableAvc(avcc(nal(0, 6)), 4)).toBe(false);
    expect(isDisposableAvc(avcc(nal(0, 20)), 4)).toBe(false);
  });

  it('a length prefix that runs past the packet, or a zero length, makes the packet count as needed', () => {
    const broken = avcc(nal(0, 1));
    expect(isDisposableAvc(broken.subarray(0, broken.length - 1), 4)).toBe(false);
    expect(isDisposableAvc(new Uint8Array([0, 0, 0, 0, 0x01]), 4)).toBe(false);
  });

  it('reads the length size from an avcC record; 3 bytes or a non-avcC description is unknown', () => {
    const avcC = (last: number) => new Uint8Array([1, 0x64, 0, 0x1e, last, 0xe1]);
    expect(avcFraming(avcC(0xff))).toBe(4);
    expect(avcFraming(avcC(0xfd))).toBe(2);
    expect(avcFraming(avcC(0xfe))).toBe('unknown');
    expect(avcFraming(new Uint8Array([0, 0, 0, 1]))).toBe('unknown');
    expect(avcFraming(undefined)).toBeNull();
  });
});
