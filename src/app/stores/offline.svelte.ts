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

/** Registers the service worker once, in production builds only (a dev server's files change constantly). */
export function startOfflineSupport(): void {
  if (!import.meta.env.PROD) return;
  if (!('serviceWorker' in navigator)) {
    offline.unsupported = true;
    return;
  }
  // A page that a service worker already controls was loaded from a complete precache.
  if (navigator.serviceWorker.controller) offline.ready = true;
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
