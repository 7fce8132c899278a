/** The user's classification settings, kept in localStorage (validated on load: storage is untrusted). */
import { z } from 'zod';
import { chosenEnsemble } from '../../core/manifest';
import type { Backend, ClassifySettings } from '../../lib/classifier-types';
import { pipeline } from './pipeline.svelte';

const KEY = 'vidkind.settings.v2';

/** Frame counts offered in Settings besides 'auto'; the head accepts any T, these keep the choice simple. */
export const FRAME_CHOICES = [8, 16, 32, 48, 64] as const;
/** Used when the models are not loaded yet and nothing else is known (the contract's default). */
const FALLBACK_FRAMES = 32;

export interface UiSettings {
  /** 'auto' = the frame count the models were trained on (what `vidkind classify` uses). */
  frames: number | 'auto';
  ensemble?: string;
  tta: boolean;
  backend: Backend;
}

const DEFAULTS: UiSettings = { frames: 'auto', ensemble: undefined, tta: false, backend: 'auto' };

const StoredSettings = z.object({
  frames: z.union([z.literal('auto'), z.number().int().min(1).max(256)]),
  ensemble: z.string().min(1).optional(),
  tta: z.boolean(),
  backend: z.enum(['auto', 'webgpu', 'wasm']),
});

function load(): UiSettings {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (raw) {
      const parsed = StoredSettings.safeParse(JSON.parse(raw));
      if (parsed.success) return { ...DEFAULTS, ...parsed.data };
    }
  } catch {
    // Storage can be disabled or hold junk; the defaults are the answer either way.
  }
  return { ...DEFAULTS };
}

export const settings: UiSettings = $state(load());

/** The frame count the loaded ensemble's heads were trained on, if the models are loaded. */
export function modelFrames(): number | undefined {
  const m = pipeline.manifest;
  if (!m) return undefined;
  try {
    const ensemble = chosenEnsemble(m, settings.ensemble);
    return m.heads.find((h) => h.id === ensemble.members[0])?.frames;
  } catch {
    return undefined;
  }
}

/** A plain copy for the classifier (a worker cannot clone Svelte proxies), with 'auto' resolved. */
export function settingsSnapshot(): ClassifySettings {
  const s = $state.snapshot(settings);
  return { ...s, frames: s.frames === 'auto' ? (modelFrames() ?? FALLBACK_FRAMES) : s.frames };
}

export function saveSettings(): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify($state.snapshot(settings)));
  } catch {
    // Private browsing may refuse storage; the settings still hold for this visit.
  }
}
