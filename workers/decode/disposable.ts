/**
 * Disposable (non-reference) H.264 frames: no other frame is predicted from them, so a decoder that
 * only wants frame t can skip every disposable frame between the key frame and t and still produce
 * t bit for bit (ffmpeg's `-skip_frame noref` does the same). In x264's default B-pyramid about 40 %
 * of the frames are disposable, which is 40 % of the decode work that sampling a long GOP costs.
 *
 * Written by hand: mediabunny parses NAL units internally but exports no such test, and WebCodecs
 * has no skip option. H.264 §7.3.1: each NAL unit starts with a byte whose bits 5-6 are
 * nal_ref_idc (0 = not used for reference) and bits 0-4 the nal_unit_type (1-5 carry slice data).
 */

/** Bytes of each NAL unit's length prefix (AVCC, from the avcC record), or null for Annex B start codes. */
export type NalFraming = 1 | 2 | 4 | null;

/** The framing of a track's packets from its WebCodecs `description` (an avcC record), if any. */
export function avcFraming(description: AllowSharedBufferSource | undefined): NalFraming | 'unknown' {
  if (description === undefined) return null;
  const bytes = ArrayBuffer.isView(description)
    ? new Uint8Array(description.buffer, description.byteOffset, description.byteLength)
    : new Uint8Array(description);
  // avcC: configurationVersion (1), profile, compatibility, level, then 6 reserved bits + lengthSizeMinusOne.
  if (bytes.length < 5 || bytes[0] !== 1) return 'unknown';
  const size = (bytes[4]! & 3) + 1;
  return size === 3 ? 'unknown' : (size as 1 | 2 | 4);
}

/** The header byte of each NAL unit in a packet; null when the framing does not add up. */
export function nalHeaders(data: Uint8Array, framing: NalFraming): number[] | null {
  const headers: number[] = [];
  if (framing === null) {
    // Annex B: 00 00 01 (or 00 00 00 01) before each NAL unit.
    for (let i = 0; i + 3 < data.length; i++) {
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
        headers.push(data[i + 3]!);
        i += 3;
      }
    }
    return headers;
  }
  let at = 0;
  while (at < data.length) {
    if (at + framing > data.length) return null;
    let length = 0;
    for (let k = 0; k < framing; k++) length = length * 256 + data[at + k]!;
    at += framing;
    if (length === 0 || at + length > data.length) return null;
    headers.push(data[at]!);
    at += length;
  }
  return headers;
}

/**
 * True when the packet is a frame that no other frame references: it has slice data and every
 * slice has nal_ref_idc 0. Anything unexpected (no slices, SVC/MVC extensions, broken framing)
 * counts as needed.
 */
export function isDisposableAvc(data: Uint8Array, framing: NalFraming): boolean {
  const headers = nalHeaders(data, framing);
  if (!headers) return false;
  let slices = 0;
  for (const h of headers) {
    if (h & 0x80) return false; // forbidden_zero_bit: not a NAL unit we understand
    const type = h & 0x1f;
    if (type === 14 || type === 20) return false; // SVC / MVC
    if (type >= 1 && type <= 5) {
      if ((h >> 5) & 3) return false;
      slices++;
    }
  }
  return slices > 0;
}
