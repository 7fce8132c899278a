/**
 * The diagnostics page: exposes the workers' clients as `window.vidkindDiagnostics` so that a
 * person (from the devtools console) or an e2e test can run each stage on a file.
 */
import { detectCapabilities } from '../lib/capabilities';
import * as decode from './decode';
import * as infer from './infer';

const api = { detectCapabilities, decode, infer };

declare global {
  interface Window {
    vidkindDiagnostics: typeof api;
  }
}

window.vidkindDiagnostics = api;
document.getElementById('log')!.textContent = 'ready';
