/// <reference types="vite-plugin-pwa/client" />
/**
 * The service worker (vite-plugin-pwa + Workbox): it precaches the build and the models so the app
 * works offline after the first visit; a new build brings a new precache and an "update" prompt.
 */
import { registerSW } from 'virtual:pwa-register';

export const offline = $state({
  /** The app and models are cached: it works with the network off. */
  ready: false,
  /** A newer version was downloaded and waits for a reload. */
  updateAvailable: false,
  /** Service workers are unavailable (old browser, private mode, file://). */
  unsupported: false,
  error: null as string | null,
});

let update: ((reload?: boolean) => Promise<void>) | null = null;

/**
 * Registers the service worker once `idle()` is true, in production builds only (a dev server's
 * files change constantly). Its first install downloads and stores the whole build (~75 MB with
 * both onnxruntime-web builds and ffmpeg.wasm); done while the models load and the first video is
 * classified, it competed with them for the CPU: in Chromium on the 2-core bench machine, picking
 * a 60 s clip right after opening the page gave a verdict in 11-15 s with it, 9.4-9.8 s without.
 * So the app asks for it once its models are loaded (or failed) and no video is waiting, or after
 * two minutes at the latest.
 */
export function startOfflineSupport(idle: () => boolean): void {
  if (!import.meta.env.PROD) return;
  if (!('serviceWorker' in navigator)) {
    offline.unsupported = true;
    return;
  }
  // A page that a service worker already controls was loaded from a complete precache.
  if (navigator.serviceWorker.controller) offline.ready = true;
  let registered = false;
  const once = () => {
    if (registered) return;
    registered = true;
    register();
    queueMicrotask(() => stop());
  };
  const stop = $effect.root(() => {
    $effect(() => {
      if (idle()) once();
    });
  });
  // Whatever happens to the models and the queue, the app is made available offline in the end.
  setTimeout(once, REGISTER_AT_THE_LATEST_MS);
}

const REGISTER_AT_THE_LATEST_MS = 120_000;

function register(): void {
  update = registerSW({
    immediate: true,
    onOfflineReady: () => (offline.ready = true),
    onNeedRefresh: () => (offline.updateAvailable = true),
    onRegisterError: (e: unknown) => (offline.error = e instanceof Error ? e.message : String(e)),
  });
}

/** Activates the waiting version and reloads the page. */
export async function applyUpdate(): Promise<void> {
  await update?.(true);
}
