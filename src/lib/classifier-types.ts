/**
 * The contract between the UI (src/app) and the classification pipeline (src/lib/classifier.ts,
 * built on the decode and inference workers). The UI imports only these types and `createClassifier`.
 */
import type { ErrorInfo } from '../core/errors';
import type { Manifest } from '../core/manifest';
import type { Result } from '../core/result';
import type { LoadedManifest } from './model-store';

export type Backend = 'auto' | 'webgpu' | 'wasm';

export interface ClassifySettings {
  /** Frames sampled per video (the head's T; default 32). */
  frames: number;
  /** Ensemble id from the manifest; undefined = the manifest's default. */
  ensemble?: string;
  /** Test-time augmentation: the manifest's TTA views, averaged. */
  tta: boolean;
  backend: Backend;
}

export type Stage = 'queued' | 'loading-models' | 'decoding' | 'features' | 'classifying' | 'done' | 'error' | 'cancelled';

export interface Progress {
  stage: Stage;
  /** Progress of this stage, 0..1. */
  fraction: number;
  detail?: string;
}

export interface ModelLoadProgress {
  file: string;
  loadedBytes: number;
  totalBytes: number;
  fromCache: boolean;
  /** Not loaded again: the workers already hold this model (the same sha256), e.g. a backbone shared with the models used before. */
  reused?: boolean;
}

/** What actually ran, for the device panel and the Result's `models.provider`. */
export interface DeviceInfo {
  provider: 'webgpu' | 'wasm';
  threads: number;
  adapter: string | null;
  /** e.g. "backbone on WebGPU, head on WASM: the WebGPU provider has no LSTM kernel" */
  notes: string[];
}

/** A sampled frame, small, for the detail view. */
export interface FrameThumbnail {
  t: number;
  width: number;
  height: number;
  /** RGBA pixels. */
  data: Uint8ClampedArray;
}

export interface ClassifyOutput {
  result: Result;
  /** Only for successful results. */
  thumbnails: FrameThumbnail[];
  durationS: number;
  /** True when decode + backbone were skipped thanks to the feature cache. */
  fromFeatureCache: boolean;
}

export interface Classifier {
  /** The model manifest (fetched once and validated), without loading any model. */
  manifest(): Promise<Manifest>;
  /** Loads the manifest and models (download with progress, sha256 check, Cache API). */
  init(settings: ClassifySettings, onModelProgress?: (p: ModelLoadProgress) => void): Promise<{ manifest: Manifest; device: DeviceInfo }>;
  /**
   * Classifies one file. Never rejects for a bad file: errors come back as an error Result. While
   * the models are still loading it starts decoding and waits for them before the backbone.
   */
  classify(
    file: File,
    settings: ClassifySettings,
    options?: { onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<ClassifyOutput>;
  clearModelCache(): Promise<void>;
  /**
   * Runs the models of a folder the user picked (model-store.ts loadManifestFromFolder) from the
   * next load on, or with null the site's own models again. Call it while no file is classified.
   */
  useModels(folder: LoadedManifest | null): void;
  dispose(): void;
}

export type { ErrorInfo, Manifest, Result };
