/** The user's classification settings, kept in localStorage (validated on load: storage is untrusted). */
import { z } from 'zod';
import type { ClassifySettings } from '../../lib/classifier-types';

const KEY = 'vidkind.settings.v1';

/** Frame counts offered in Settings; the head accepts any T, these keep the choice simple. */
export const FRAME_CHOICES = [8, 16, 32, 48, 64] as const;

const DEFAULTS: ClassifySettings = { frames: 32, ensemble: undefined, tta: false, backend: 'auto' };

const StoredSettings = z.object({
  frames: z.number().int().min(1).max(256),
  ensemble: z.string().min(1).optional(),
  tta: z.boolean(),
  backend: z.enum(['auto', 'webgpu', 'wasm']),
});

function load(): ClassifySettings {
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

export const settings: ClassifySettings = $state(load());

/** A plain copy for passing to the classifier (a worker cannot clone Svelte proxies). */
export function settingsSnapshot(): ClassifySettings {
  return $state.snapshot(settings);
}

export function saveSettings(): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(settingsSnapshot()));
  } catch {
    // Private browsing may refuse storage; the settings still hold for this visit.
  }
}

export function resetSettings(): void {
  Object.assign(settings, DEFAULTS);
  saveSettings();
}
