/**
 * The inference worker's typed surface (Comlink). Frames and feature buffers are transferred, not
 * copied; every failure crosses the boundary as `{code, message}` inside an `InferError`.
 */
import type { ErrorInfo } from '../../src/core/errors';
import type { BackboneEntry, HeadEntry } from '../../src/core/manifest';
import type { RgbaFrame, ViewSpec } from '../../src/core/preprocess';

export type Backend = 'auto' | 'webgpu' | 'wasm';
export type Provider = 'webgpu' | 'wasm';

export interface InferConfig {
  /** 'auto': WebGPU on a real (non-fallback) adapter, else WASM. 'webgpu'/'wasm' force one. */
  backend: Backend;
  /** WASM threads; default: cores - 1 (up to 4, at least 1) when cross-origin isolated, else 1. */
  threads?: number;
  /** onnxruntime's verbose session log (node placement per provider) to the worker console. */
  verboseLog?: boolean;
}

/** What the worker will run on, decided once per worker (onnxruntime's WASM threads are fixed at first use). */
export interface InferDevice {
  /** Provider of the backbone sessions. */
  backboneProvider: Provider;
  /** Provider of the head sessions (see sessions.ts for why heads may stay on WASM). */
  headProvider: Provider;
  threads: number;
  adapter: string | null;
  fallbackAdapter: boolean;
  crossOriginIsolated: boolean;
  /** Human notes for the device panel: why a provider was or was not used. */
  notes: string[];
}

export interface LoadedModel {
  id: string;
  kind: 'backbone' | 'head';
  provider: Provider;
  createMs: number;
  inputNames: string[];
  outputNames: string[];
}

export interface EmbedRequest {
  backboneId: string;
  /**
   * More backbones to run on the same frames and views. The frames then cross the worker boundary
   * once, and each frame is resized once per distinct input size and view, not once per backbone.
   */
  moreBackboneIds?: string[];
  /** RGBA frames (their buffers are transferred to the worker). */
  frames: RgbaFrame[];
  /** Spatial views per frame (TTA flip / crop); [{}] for the plain view. */
  views: ViewSpec[];
  /** Also return a small RGBA copy of each frame (longest side in pixels) for the UI. */
  thumbnailMaxSide?: number;
}

/** One backbone's part of an embed. */
export interface BackboneFeatures {
  backboneId: string;
  /** One [frames.length, dim] row-major block per view, in the order of `views`. */
  features: Float32Array[];
  dim: number;
  /** This backbone's session.run time. */
  backboneMs: number;
}

export interface EmbedResult {
  /** `backboneId`'s features: one [frames.length, dim] row-major block per view, in the order of `views`. */
  features: Float32Array[];
  dim: number;
  preprocessMs: number;
  /** session.run time of all the backbones of the request. */
  backboneMs: number;
  /** Every backbone of the request: `backboneId` first, then `moreBackboneIds` in order. */
  backbones: BackboneFeatures[];
  /** When asked for: one thumbnail per frame. */
  thumbnails?: RgbaFrame[];
  /** Which of the client's inference workers ran it (set by the main-thread client, not the worker). */
  worker?: number;
}

export interface HeadRequest {
  headId: string;
  /** [n, t, dim] row-major. */
  features: Float32Array;
  n: number;
  t: number;
}

export interface HeadResult {
  /** [n, classes] */
  logits: Float32Array;
  classes: number;
  /** [n, subclasses] when the head has that output. */
  subLogits?: Float32Array;
  subclasses?: number;
  /** [n, t] attention-pooling weights when the head has that output. */
  attention?: Float32Array;
  ms: number;
}

export interface InferWorkerApi {
  configure(config: InferConfig): Promise<InferDevice>;
  /** Verifies the bytes against the entry's sha256 (again, here, right before use) and creates the session. */
  loadModel(kind: 'backbone' | 'head', entry: BackboneEntry | HeadEntry, bytes: ArrayBuffer): Promise<LoadedModel>;
  /** Ids (with sha256) of the sessions already created, so the client can skip reloading. */
  loadedModels(): Promise<Array<{ id: string; sha256: string }>>;
  embed(request: EmbedRequest): Promise<EmbedResult>;
  /**
   * Times `runs` session.run calls of a loaded backbone on a fixed input of `batch` frames (no
   * preprocessing, no copies across the boundary): the in-browser cost of the model alone.
   */
  timeBackbone(backboneId: string, runs: number, batch?: number): Promise<{ runMs: number[]; batch: number }>;
  runHead(request: HeadRequest): Promise<HeadResult>;
  /** Releases every session. */
  release(): Promise<void>;
}

/** How the worker reports a failure: a plain object survives structured cloning intact. */
export interface InferError {
  vidkindError: ErrorInfo;
}
