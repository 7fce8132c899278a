/** The hostile inputs of scripts/make-hostile.sh, what each may give, and seeded byte-flip variants. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/train/rng.ts';

// import.meta.url rather than __dirname: the Playwright e2e spec (ESM) imports this module too.
const here = dirname(fileURLToPath(import.meta.url));

export const HOSTILE_DIR = resolve(here, '../../../tests/fixtures/hostile');

/** An error code, or 'verdict' where the file is still decodable. */
export type Outcome = string;
export const HOSTILE_EXPECTATIONS = (
  JSON.parse(readFileSync(resolve(here, '../../../tests/e2e/hostile-expectations.json'), 'utf8')) as {
    files: Record<string, { browser: Outcome[]; node?: Outcome[] }>;
  }
).files;

/**
 * Variant `index` of a good clip: 1 to 16 bytes set to seeded random values (mulberry32), anywhere
 * in the file — header, index or media data. The same index always gives the same bytes.
 */
export function byteFlipVariant(good: Uint8Array, index: number): Uint8Array {
  const rng = new Rng(0x9e3779b9 ^ (index * 2654435761));
  const next = () => rng.next();
  const out = Uint8Array.from(good);
  const flips = 1 + Math.floor(next() * 16);
  for (let k = 0; k < flips; k++) out[Math.floor(next() * out.length)] = Math.floor(next() * 256);
  return out;
}
