/**
 * Real images for parity checks, decoded to RGBA frames. JPEG is decoded in pure JS (jpeg-js) so the
 * check needs no native tools; the default set is the small, licensed photos and document page
 * committed under node-trainer/tests/backbone/images.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import type { RgbaFrame } from '../../../src/core/preprocess.ts';

export const DEFAULT_PARITY_IMAGES = fileURLToPath(new URL('../../tests/backbone/images', import.meta.url));

/** Decodes every .jpg / .jpeg in `dir`, in name order (so the parity numbers are reproducible). */
export function loadParityImages(dir = DEFAULT_PARITY_IMAGES): Array<{ name: string; frame: RgbaFrame }> {
  const files = readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort();
  if (!files.length) throw new Error(`No JPEG images in ${dir} for the parity check.`);
  return files.map((name) => {
    const img = jpeg.decode(readFileSync(join(dir, name)), { useTArray: true, formatAsRGBA: true });
    return { name, frame: { width: img.width, height: img.height, data: img.data } };
  });
}
